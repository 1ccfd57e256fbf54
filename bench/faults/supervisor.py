"""The system's processes as the Procfile runs them, each in its own process group, and
restarted when they die (like a process manager with restart=always)."""

import contextlib
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

# The Procfile entries that make up the system under test (flower adds nothing to a
# message's path; beat is there to come through database restarts, see probes.py).
SYSTEM = ("web", "relay", "beat")
WORKER_PREFIX = "worker-"
# A process that keeps dying by itself is not restarted forever.
MAX_STARTS = 100


def procfile_commands(path):
    commands = {}
    for line in Path(path).read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and not line.startswith("#"):
            commands[name.strip()] = command.strip()
    return {
        name: command
        for name, command in commands.items()
        if name in SYSTEM or name.startswith(WORKER_PREFIX)
    }


def worker_queues(command):
    """The queues a `celery worker -Q a,b` command line consumes."""
    words = command.split()
    return words[words.index("-Q") + 1].split(",") if "-Q" in words else []


def children(pid):
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


class Managed:
    def __init__(self, name, command):
        self.name = name
        self.command = command
        self.process = None
        self.hold = False  # True: stopped on purpose, do not restart
        self.restart_at = None
        self.starts = 0

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def alive(self):
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(
        self, commands, *, cwd, env, log_dir, pids_file, log, restart_delay=(0.5, 3.0), seed=0
    ):
        self.cwd = cwd
        self.pids_file = Path(pids_file)
        self.env = env
        self.log_dir = Path(log_dir)
        self.log = log
        self.restart_delay = restart_delay
        self.random = random.Random(seed)
        self.procs = {name: Managed(name, command) for name, command in commands.items()}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def start_all(self):
        for managed in self.procs.values():
            self._spawn(managed)
        self._monitor.start()

    def _spawn(self, managed):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{managed.name}.log", "ab") as out:
            managed.process = subprocess.Popen(
                ["sh", "-c", f"exec {managed.command}"],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with self.pids_file.open("a") as pids:
            pids.write(f"{managed.process.pid}\n")
        managed.starts += 1
        managed.restart_at = None

    def _watch(self):
        while not self._stop.wait(0.25):
            with self._lock:
                for managed in self.procs.values():
                    if managed.hold or managed.alive():
                        continue
                    if managed.starts >= MAX_STARTS:
                        self.log(f"{managed.name} exited {managed.starts} times; not restarted")
                        managed.hold = True
                        continue
                    now = time.monotonic()
                    if managed.restart_at is None:
                        managed.restart_at = now + self.random.uniform(*self.restart_delay)
                    elif now >= managed.restart_at:
                        self._spawn(managed)

    def workers(self, queues=None):
        """The worker processes (only those consuming one of `queues`, when given)."""
        names = [name for name in self.procs if name.startswith(WORKER_PREFIX)]
        if queues is None:
            return names
        return [name for name in names if set(worker_queues(self.procs[name].command)) & queues]

    def all_alive(self):
        return all(m.alive() for m in self.procs.values())

    # --- faults -----------------------------------------------------------------
    def kill_group(self, name):
        """kill -9 the process and everything it started (e.g. a worker and its pool)."""
        with self._lock:
            managed = self.procs[name]
            if not managed.alive():
                return None
            pid = managed.pid
            os.killpg(pid, signal.SIGKILL)
            managed.process.wait(timeout=10)
            return pid

    def kill_child(self, name):
        """kill -9 one child (a prefork pool process, a gunicorn worker) at random."""
        with self._lock:
            managed = self.procs[name]
            if not managed.alive():
                return None
            pids = children(managed.pid)
            if not pids:
                return None
            pid = self.random.choice(pids)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return None
            return pid

    def restart(self, name, timeout=60):
        """A clean restart: SIGTERM, wait for the process to finish, start it again."""
        with self._lock:
            managed = self.procs[name]
            managed.hold = True
        try:
            if managed.alive():
                managed.process.send_signal(signal.SIGTERM)
                try:
                    managed.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(managed.pid, signal.SIGKILL)
                    managed.process.wait(timeout=10)
        finally:
            with self._lock:
                self._spawn(managed)
                managed.hold = False

    def stop_all(self, timeout=20):
        self._stop.set()
        with self._lock:
            for managed in self.procs.values():
                managed.hold = True
                if managed.alive():
                    managed.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for managed in self.procs.values():
                if managed.process is None:
                    continue
                with contextlib.suppress(subprocess.TimeoutExpired):
                    managed.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                # Whatever is left in the group (pool processes, gunicorn workers).
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(managed.pid, signal.SIGKILL)
