"""The suite's own RabbitMQ node: started, crashed, stopped and restarted by the suite.

It runs beside any RabbitMQ a developer (or a colleague) uses, on its own node name,
ports, data directory and Erlang cookie, so restarting it never disturbs anyone else.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

# FAULTS_NODE_NAME: two suites on one machine (say two checkouts) need two node names.
NODE_NAME = os.environ.get("FAULTS_NODE_NAME", "propmgmt_faults@localhost")


def _rabbitmq_scripts():
    """The directory of the real rabbitmq-server script (not a distribution's wrapper that
    switches to the rabbitmq user)."""
    configured = os.environ.get("RABBITMQ_SCRIPTS_DIR")
    candidates = [configured] if configured else []
    candidates.append("/usr/lib/rabbitmq/bin")
    found = shutil.which("rabbitmq-server")
    if found:
        candidates.append(str(Path(found).resolve().parent))
    for directory in candidates:
        if directory and (Path(directory) / "rabbitmq-server").exists():
            return Path(directory)
    raise RuntimeError("rabbitmq-server is not installed (apt-get install rabbitmq-server)")


def port_open(port, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


class RabbitNode:
    def __init__(
        self,
        base_dir,
        *,
        amqp_port,
        management_port,
        dist_port,
        log,
        node_name=NODE_NAME,
        advanced_config="[].",
    ):
        """`advanced_config`: Erlang terms for advanced.config (settings rabbitmq.conf
        has no key for, say a channel tick for tests)."""
        self.base = Path(base_dir)
        self.node_name = node_name
        self.advanced_config = advanced_config
        self.amqp_port = amqp_port
        self.management_port = management_port
        self.dist_port = dist_port
        self.log = log
        self.process = None
        self.starts = 0

    @property
    def url(self):
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}//"

    @property
    def management_url(self):
        return f"http://guest:guest@127.0.0.1:{self.management_port}"

    def _env(self):
        base = self.base
        return {
            **os.environ,
            # Its own Erlang cookie: the CLI tools of other nodes cannot reach this one.
            "HOME": str(base / "home"),
            "RABBITMQ_NODENAME": self.node_name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_PID_FILE": str(base / "node.pid"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            # Not the system's rabbitmq-env.conf (it names the shared node).
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def prepare(self):
        """A fresh node: empty data directory and our own configuration."""
        self.kill_leftover()
        shutil.rmtree(self.base, ignore_errors=True)
        for sub in ("home", "mnesia", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}\n"
            f"management.tcp.port = {self.management_port}\n"
            "management.tcp.ip = 127.0.0.1\n"
        )
        (self.base / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (self.base / "advanced.config").write_text(self.advanced_config + "\n")
        (self.base / "rabbitmq-env.conf").write_text("# the fault suite's node: see node.py\n")
        for port in (self.amqp_port, self.management_port, self.dist_port):
            if port_open(port):
                raise RuntimeError(
                    f"port {port} is in use; the fault suite's RabbitMQ node needs it "
                    "(set FAULTS_AMQP_PORT / FAULTS_MANAGEMENT_PORT / FAULTS_DIST_PORT)"
                )

    def kill_leftover(self):
        """A node a previous run of this suite left behind (the suite itself was killed)."""
        pid_file = self.base / "node.pid"
        try:
            pid = int(pid_file.read_text().strip())
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except (OSError, ValueError):
            return
        if f"RABBITMQ_NODENAME={self.node_name}".encode() in environ:
            self.log(f"killing the RabbitMQ node a previous run left behind (pid {pid})")
            os.kill(pid, signal.SIGKILL)
            time.sleep(1)

    def start(self, timeout=180):
        log = open(self.base / "log" / "server.out", "ab")  # noqa: SIM115 (kept by Popen)
        self.process = subprocess.Popen(
            [str(_rabbitmq_scripts() / "rabbitmq-server")],
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.starts += 1
        started = time.monotonic()
        while not self.accepts_amqp():
            if self.process.poll() is not None:
                raise RuntimeError(f"RabbitMQ node exited; see {self.base / 'log'}")
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"RabbitMQ node not up after {timeout}s")
            time.sleep(0.5)
        return time.monotonic() - started

    def accepts_amqp(self):
        if not port_open(self.amqp_port):
            return False
        from kombu import Connection

        try:
            with Connection(self.url, connect_timeout=2) as connection:
                connection.connect()
            return True
        except Exception:
            return False

    def running(self):
        return self.process is not None and self.process.poll() is None

    def crash(self):
        """kill -9 the whole node (Erlang VM and helpers): no clean shutdown."""
        if self.running():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout=90):
        """A clean shutdown: the start script passes SIGTERM on to the Erlang VM."""
        if not self.running():
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.log(f"RabbitMQ node did not stop in {timeout}s; killing it")
            self.crash()
        # Helpers (epmd excepted, which is shared) go with the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
