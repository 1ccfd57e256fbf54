"""The suite's own PostgreSQL server: created, restarted and stopped by the suite.

It runs beside the machine's PostgreSQL (which colleagues' tests use) on its own port,
data directory and socket directory, so restarting it never disturbs anyone else.
Trust authentication on 127.0.0.1 only. PostgreSQL refuses to run as root: as root, the
server and its tools run as the `postgres` user.
"""

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from bench.faults.node import port_open

BIN = Path(os.environ.get("FAULTS_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "propmgmt_faults"
SERVER_USER = "postgres"


class PostgresServer:
    def __init__(self, base_dir, *, port, log):
        self.base = Path(base_dir)
        self.data = self.base / "data"
        self.port = port
        self.log = log
        self.starts = 0

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, tool, *args, check=True, timeout=120):
        command = [str(BIN / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        return subprocess.run(command, check=check, timeout=timeout, capture_output=True, text=True)

    def running(self):
        if not (self.data / "postmaster.pid").exists():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0

    def prepare(self):
        """A fresh server: an empty cluster with our settings (initdb)."""
        if self.running():
            self.log("stopping the PostgreSQL server a previous run left behind")
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", check=False)
        if port_open(self.port):
            raise RuntimeError(
                f"port {self.port} is in use; the fault suite's PostgreSQL needs it "
                "(set FAULTS_POSTGRES_PORT)"
            )
        shutil.rmtree(self.base, ignore_errors=True)
        (self.base / "socket").mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, SERVER_USER, SERVER_USER)
            shutil.chown(self.base / "socket", SERVER_USER, SERVER_USER)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-instructions",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# the fault suite's server: see bench/faults/database.py\n"
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.base / 'socket'}'\n"
                "max_connections = 200\n"
                "logging_collector = off\n"
            )

    def start(self, timeout=60):
        started = time.monotonic()
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.base / "server.log"),
            "-w",
            "-t",
            str(timeout),
            timeout=timeout + 10,
        )
        self.starts += 1
        return time.monotonic() - started

    def restart_fast(self, timeout=60):
        """`pg_ctl restart -m fast`: every session is ended, the server shuts down cleanly
        and starts again. Returns the seconds it took."""
        started = time.monotonic()
        self._run(
            "pg_ctl",
            "restart",
            "-D",
            str(self.data),
            "-m",
            "fast",
            "-w",
            "-t",
            str(timeout),
            "-l",
            str(self.base / "server.log"),
            timeout=timeout + 10,
        )
        self.starts += 1
        return time.monotonic() - started

    def crash_and_start(self, hold):
        """`pg_ctl stop -m immediate` (no shutdown checkpoint: the next start recovers
        from the WAL, as after a crash), `hold` seconds down, start. Returns the seconds
        the start (with its recovery) took."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        time.sleep(hold)
        return self.start()

    def stop(self):
        if self.running():
            with contextlib.suppress(subprocess.SubprocessError):
                self._run(
                    "pg_ctl",
                    "stop",
                    "-D",
                    str(self.data),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    "30",
                    check=False,
                    timeout=40,
                )
