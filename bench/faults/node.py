"""The suite's own RabbitMQ node: started, crashed, stopped and restarted by the suite.

It runs beside any RabbitMQ a developer (or a colleague) uses, on its own node name,
ports, data directory and Erlang cookie, so restarting it never disturbs anyone else.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
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
        home=None,
    ):
        """`advanced_config`: Erlang terms for advanced.config (settings rabbitmq.conf
        has no key for, say a channel tick for tests). `home`: a HOME shared with other
        nodes (its .erlang.cookie is a cluster's); by default one of its own."""
        self.base = Path(base_dir)
        self.home = Path(home) if home else self.base / "home"
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
            "HOME": str(self.home),
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
        self.home.mkdir(parents=True, exist_ok=True)
        for sub in ("mnesia", "log"):
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
        return self.wait_up(timeout)

    def wait_up(self, timeout=180):
        """Seconds until the node accepts AMQP connections (it was just started)."""
        started = time.monotonic()
        while not self.accepts_amqp():
            if self.process.poll() is not None:
                raise RuntimeError(f"RabbitMQ node exited; see {self.base / 'log'}")
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"RabbitMQ node not up after {timeout}s")
            time.sleep(0.5)
        return time.monotonic() - started

    def ctl(self, *args, tool="rabbitmqctl", timeout=120):
        """A RabbitMQ CLI tool against this node (its cookie, its name); the output."""
        result = subprocess.run(
            [str(_rabbitmq_scripts() / tool), "-n", self.node_name, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode:
            raise RuntimeError(
                f"{tool} {' '.join(args)} on {self.node_name} exited {result.returncode}: "
                f"{(result.stderr or result.stdout).strip()[-500:]}"
            )
        return result.stdout

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


# FAULTS_CLUSTER_NODE_PREFIX: the cluster's node names are PREFIX1@localhost .. PREFIX3@.
CLUSTER_NODE_PREFIX = os.environ.get("FAULTS_CLUSTER_NODE_PREFIX", "propmgmt_faults_")


class RabbitCluster:
    """The suite's own three-node RabbitMQ cluster (`make faults CLUSTER=1`): like
    scripts/cluster.sh's, but nodes, ports and data of its own under var/faults, started,
    faulted and removed by the run. Node N is PREFIX N@localhost with AMQP on
    amqp_base + N, management on management_base + N, distribution on dist_base + N; the
    nodes share an Erlang cookie of their own (HOME under the cluster's directory)."""

    def __init__(
        self,
        base_dir,
        *,
        amqp_base,
        management_base,
        dist_base,
        log,
        size=3,
        name_prefix=CLUSTER_NODE_PREFIX,
    ):
        self.base = Path(base_dir)
        self.log = log
        self.nodes = [
            RabbitNode(
                self.base / f"node-{n}",
                amqp_port=amqp_base + n,
                management_port=management_base + n,
                dist_port=dist_base + n,
                log=log,
                node_name=f"{name_prefix}{n}@localhost",
                home=self.base / "home",
            )
            for n in range(1, size + 1)
        ]

    @property
    def url(self):
        """The failover list every process of the system is given."""
        return ";".join(node.url for node in self.nodes)

    @property
    def management_url(self):
        return ";".join(node.management_url for node in self.nodes)

    @property
    def starts(self):
        return sum(node.starts for node in self.nodes)

    def node(self, name):
        return next(node for node in self.nodes if node.node_name == name)

    def prepare(self):
        for node in self.nodes:
            node.kill_leftover()
        shutil.rmtree(self.base, ignore_errors=True)
        home = self.base / "home"
        home.mkdir(parents=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o400)
        for node in self.nodes:
            node.prepare()

    def start(self, timeout=240):
        """Boot the nodes side by side, join the others to the first, wait until the first
        sees them all running. Returns the seconds it took."""
        started = time.monotonic()
        took = {}
        threads = [
            threading.Thread(target=lambda n=node: took.update({n.node_name: n.start(timeout)}))
            for node in self.nodes
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if len(took) != len(self.nodes):
            raise RuntimeError(f"cluster nodes did not come up; see {self.base}/node-*/log")
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.node_name)
            node.ctl("start_app")
        self.wait_running(timeout)
        return time.monotonic() - started

    def running_nodes(self):
        """The nodes the cluster reports running, asked of the first node that answers."""
        for node in self.nodes:
            if not node.running():
                continue
            try:
                status = json.loads(node.ctl("cluster_status", "--formatter", "json", timeout=30))
                return set(status["running_nodes"])
            except (RuntimeError, ValueError, KeyError, subprocess.TimeoutExpired):
                continue
        return set()

    def wait_running(self, timeout=240):
        deadline = time.monotonic() + timeout
        want = {node.node_name for node in self.nodes}
        while self.running_nodes() != want or not self.accepts_amqp():
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster not fully running after {timeout}s")
            time.sleep(1)

    def accepts_amqp(self):
        return all(node.accepts_amqp() for node in self.nodes)

    def queues(self):
        """name -> (leader node, messages, consumers) of the default vhost's queues, from the
        management API of the first node that answers (quorum queues report `leader`,
        classic ones `node`)."""
        import requests

        for node in self.nodes:
            try:
                answer = requests.get(
                    f"http://127.0.0.1:{node.management_port}/api/queues/%2F",
                    params={"columns": "name,leader,node,messages,consumers"},
                    auth=("guest", "guest"),
                    timeout=10,
                )
                answer.raise_for_status()
            except requests.RequestException:
                continue
            return {
                queue["name"]: (
                    queue.get("leader") or queue.get("node"),
                    queue.get("messages") or 0,
                    queue.get("consumers") or 0,
                )
                for queue in answer.json()
            }
        raise RuntimeError("no cluster node's management API answers")

    def leader_of(self, busy):
        """The node that leads the most of the `busy` queues (the load's), ties broken by
        the messages in the queues it leads; with the queues it leads."""
        led = {}
        for name, (leader, messages, _) in self.queues().items():
            if name in busy and leader:
                led.setdefault(leader, []).append((name, messages or 0))
        if not led:
            raise RuntimeError(f"none of the busy queues has a leader: {sorted(busy)}")
        leader = max(led, key=lambda n: (len(led[n]), sum(m for _, m in led[n])))
        return self.node(leader), led[leader]

    def await_quorum_plus_one(self, node, timeout=180):
        """What the upgrade procedure waits for before it stops `node`: every quorum queue
        has a majority without it (`rabbitmq-upgrade await_online_quorum_plus_one`)."""
        node.ctl(
            "await_online_quorum_plus_one",
            "-t",
            str(timeout),
            tool="rabbitmq-upgrade",
            timeout=timeout + 30,
        )

    def stop(self, timeout=60):
        """Stop every node (the run is over). Their data and logs stay under the cluster's
        directory for a look after the run, like the single node's; the next run's
        prepare() removes them."""
        threads = [
            threading.Thread(target=node.stop, kwargs={"timeout": timeout}) for node in self.nodes
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
