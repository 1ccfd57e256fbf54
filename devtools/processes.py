"""The one launcher of the project's processes for the tests and the benches.

A `Process` is one command started in a session (process group) of its own, its output
in a log file: signals go to the whole group (a worker and its pool, sh and what it ran),
and `stop()` is SIGTERM, a wait for every process of the group, then SIGKILL.
`Process(procfile_argv(name), ...)` starts the Procfile's `name` line as `make run` does
(honcho runs each line with `sh -c`; a Process has the virtualenv's bin first on PATH).

No Django here: the benches import it before they configure Django.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
# One directory per pytest-xdist process (gw0, gw1), whose tests reuse log names.
TEST_LOG_DIR = ROOT / "var" / "test-logs" / os.environ.get("PYTEST_XDIST_WORKER", "")


def procfile(root=ROOT):
    """{name: command} of the Procfile's `name: command` lines (comments, blank lines and
    anything else without a colon skipped)."""
    commands = {}
    for line in (Path(root) / "Procfile").read_text().splitlines():
        name, colon, command = line.partition(":")
        if colon and name.strip() and not line.lstrip().startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


def procfile_argv(name, root=ROOT, extra_args=""):
    """The Procfile's `name` line (of the checkout at `root`, `extra_args` appended) as
    honcho runs it; start it with cwd=root."""
    return ["sh", "-c", f"{procfile(root)[name]} {extra_args}".strip()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=20.0, interval=0.1, message="condition"):
    """Poll `predicate` until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


class Process:
    """`argv` started from `cwd` with this process's environment updated by `env` (and
    this checkout's virtualenv bin first on PATH), its output in `log_dir`/`log_name`.log
    (appended to with `append=True`)."""

    def __init__(self, argv, *, log_dir, log_name, env=None, cwd=ROOT, append=False):
        self.log_path = Path(log_dir) / f"{log_name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.terminated = False
        self.log = open(self.log_path, "a" if append else "w")  # noqa: SIM115 (closed in stop/kill)
        env = {**os.environ, **(env or {})}
        env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
        self.popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self):
        """The process started, leader of its group (and of its session)."""
        return self.popen.pid

    def logs(self):
        return self.log_path.read_text()

    def children(self):
        """The pids the process started (a worker's pool, gunicorn's workers), whichever
        of its threads started them."""
        pids = []
        for listed in Path(f"/proc/{self.pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # the thread or the process has exited
                pids += [int(pid) for pid in listed.read_text().split()]
        return pids

    # --- readiness ------------------------------------------------------------------------
    def wait_for(self, predicate, timeout=30, interval=0.2, message="ready"):
        """wait_until(predicate), failing at once with the log if the process exits."""

        def ready():
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.log_path.name}: exited early:\n{self.logs()}")
            return predicate()

        wait_until(ready, timeout, interval, message=f"{self.log_path.name}: {message}")
        return self

    def wait_logged(self, text, timeout=60):
        return self.wait_for(lambda: text in self.logs(), timeout, message=repr(text))

    def wait_answering(self, url, timeout=30):
        """Until `url` answers below 500."""

        def answers():
            try:
                return requests.get(url, timeout=2).status_code < 500
            except requests.RequestException:
                return False

        return self.wait_for(answers, timeout, interval=0.3, message=f"{url} answering")

    # --- teardown -------------------------------------------------------------------------
    def signal_group(self, signum):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)

    def terminate(self):
        """SIGTERM to the group, once (a worker's warm shutdown: it finishes its tasks)."""
        if not self.terminated:
            self.signal_group(signal.SIGTERM)
            self.terminated = True

    def running(self):
        """Any process of the group still alive (sh may exit before what it ran)."""
        self.popen.poll()
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL to what of the group is left after `timeout` seconds."""
        self.terminate()
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.kill()

    def kill(self):
        """SIGKILL to the whole group (once a test is over, a clean stop only costs time)."""
        self.signal_group(signal.SIGKILL)
        self.popen.wait(10)
        self.log.close()


def stop_all(processes, timeout=20):
    """SIGTERM to every process at once, then stop() each within the one `timeout`."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        process.stop(max(deadline - time.monotonic(), 0.1))
