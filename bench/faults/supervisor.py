"""The system's processes as the Procfile runs them, each in its own process group, and
restarted when they die (like a process manager with restart=always)."""

import os
import random
import signal
import threading
import time
from pathlib import Path

from devtools.processes import Process, procfile
from devtools.processes import stop_all as processes_stop_all

# The Procfile entries that make up the system under test (flower adds nothing to a
# message's path; beat is there to come through database restarts, see probes.py).
SYSTEM = ("web", "relay", "beat")
WORKER_PREFIX = "worker-"
# A process that keeps dying by itself is not restarted forever.
MAX_STARTS = 100


def system_commands(root):
    """The Procfile's entries (at `root`) that make up the system under test."""
    return {
        name: command
        for name, command in procfile(root).items()
        if name in SYSTEM or name.startswith(WORKER_PREFIX)
    }


def worker_queues(command):
    """The queues a `celery worker -Q a,b` command line consumes."""
    words = command.split()
    return words[words.index("-Q") + 1].split(",") if "-Q" in words else []


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
        return self.process is not None and self.process.popen.poll() is None


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
        # `exec`: the pid is the command's own (dash's `sh -c` does not replace itself),
        # so its children are the pool's.
        managed.process = Process(
            ["sh", "-c", f"exec {managed.command}"],
            log_dir=self.log_dir,
            log_name=managed.name,
            env=self.env,
            cwd=self.cwd,
            append=True,
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
            managed.process.kill()
            return pid

    def kill_child(self, name):
        """kill -9 one child (a prefork pool process, a gunicorn worker) at random."""
        with self._lock:
            managed = self.procs[name]
            if not managed.alive():
                return None
            pids = managed.process.children()
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
                managed.process.stop(timeout)
        finally:
            with self._lock:
                self._spawn(managed)
                managed.hold = False

    def stop_all(self, timeout=20):
        """SIGTERM to every process, then SIGKILL to what of each group is left (pool
        processes, gunicorn workers) after `timeout`."""
        self._stop.set()
        with self._lock:
            for managed in self.procs.values():
                managed.hold = True
            processes_stop_all([m.process for m in self.procs.values() if m.process], timeout)
