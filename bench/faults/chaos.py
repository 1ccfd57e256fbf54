"""The chaos plan: which fault happens when, as a fraction of the load, in a seeded random
order. Broker faults (which take a while: a node boots in 10-40 s here) run on one
thread, process faults on another, both while the load goes on."""

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass

import psycopg2


@dataclass
class Fault:
    at: float  # fraction of the planned requests sent when it fires
    kind: str
    target: str = ""
    done_at: float | None = None
    detail: str = ""


def chaos_plan(
    *,
    kills,
    relay_kills,
    web_worker_kills,
    db_terminations,
    db_restarts,
    db_crashes,
    broker_down,
    seed,
    cluster=False,
):
    """`cluster`: the broker is a three-node cluster (run.py --cluster): its faults are
    a kill -9 of the node that leads the busiest queues (restarted at once), a clean stop
    of another node held `broker_down` seconds and, last, a rolling restart of all three
    nodes one at a time, instead of the single node's crash and stop."""
    rng = random.Random(seed)
    plan = []
    for _ in range(kills):
        kind = rng.choice(("kill_pool_child", "kill_worker"))
        plan.append(Fault(rng.uniform(0.03, 0.92), kind))  # a worker alive at that moment
    for _ in range(relay_kills):
        plan.append(Fault(rng.uniform(0.05, 0.9), "kill_relay", "relay"))
    for _ in range(web_worker_kills):
        plan.append(Fault(rng.uniform(0.05, 0.9), "kill_web_worker", "web"))
    for _ in range(db_terminations):
        plan.append(Fault(rng.uniform(0.2, 0.9), "terminate_db_sessions", "postgresql"))
    for _ in range(db_restarts):
        plan.append(Fault(rng.uniform(0.1, 0.9), "restart_postgres", "postgresql"))
    for _ in range(db_crashes):
        plan.append(Fault(rng.uniform(0.1, 0.9), "crash_postgres", "postgresql"))
    if cluster:
        plan.append(Fault(rng.uniform(0.1, 0.2), "crash_leader", "rabbitmq"))
        plan.append(
            Fault(rng.uniform(0.45, 0.55), "stop_node", "rabbitmq", detail=str(broker_down))
        )
        plan.append(Fault(rng.uniform(0.8, 0.9), "rolling_restart", "rabbitmq"))
    else:
        plan.append(Fault(rng.uniform(0.1, 0.2), "crash_broker", "rabbitmq"))
        plan.append(
            Fault(rng.uniform(0.5, 0.6), "stop_broker", "rabbitmq", detail=str(broker_down))
        )
    plan.append(Fault(rng.uniform(0.4, 0.5), "restart_web", "web"))
    return sorted(plan, key=lambda fault: fault.at)


BROKER_FAULTS = ("crash_broker", "stop_broker", "crash_leader", "stop_node", "rolling_restart")
# How long every work queue gets to have a consumer again after a cluster node went away
# (the workers connected to it reconnect to another node).
RECONNECT_TIMEOUT = 90
DATABASE_RESTARTS = ("restart_postgres", "crash_postgres")
# How long the server stays down after an immediate stop.
DATABASE_CRASH_HOLD = 3.0
# How long the processes get to show they use the database again after a restart.
RECOVERY_TIMEOUT = 120


def database_sessions_terminate(url):
    """pg_terminate_backend of every session of the suite's database (web, relay, workers'
    main and pool processes) but this one, as a PostgreSQL restart would end them; other
    databases on the server are left alone. Returns how many were ended."""
    connection = psycopg2.connect(url, connect_timeout=10)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]
    finally:
        connection.close()


class Chaos:
    def __init__(
        self,
        plan,
        *,
        supervisor,
        node,
        database,
        database_url,
        progress,
        planned,
        log,
        deadline,
        seed,
        busy_queues,
        beat_log,
    ):
        self.plan = plan
        self.database = database  # the suite's own PostgresServer
        self.beat_log = beat_log
        # What a database restart left broken (a process that had to be restarted, a
        # worker or beat that did not use the database again): the suite fails on each.
        self.problems = []
        # The unknown-task messages sent after each database restart: message id -> the
        # dead-letter queue they end in (verify.py counts them apart).
        self.probes = {}
        self.restarts_seen = 0
        # A broker fault and a database restart never overlap: the probes after a
        # restart need the broker, and each fault's effect stays attributable.
        self._exclusive = threading.Lock()
        self.busy_queues = busy_queues  # kills hit the workers that have work
        self.worker_hits = Counter()  # ...the one hit least so far first, so all get hit
        self.random = random.Random(seed)
        self.supervisor = supervisor
        self.node = node  # a RabbitNode, or a RabbitCluster (node.py)
        self.crashed = None  # the cluster node the kill -9 hit
        self.database_url = database_url
        self.progress = progress  # () -> requests sent so far
        self.planned = planned
        self.log = log
        self.deadline = deadline  # time.monotonic() after which it stops waiting
        self.error = None
        broker = [f for f in plan if f.kind in BROKER_FAULTS]
        processes = [f for f in plan if f.kind not in BROKER_FAULTS]
        self.threads = [
            threading.Thread(target=self._run, args=(faults,), name=name, daemon=True)
            for name, faults in (("chaos-broker", broker), ("chaos-processes", processes))
        ]
        self.started = time.monotonic()

    @property
    def done(self):
        return not any(thread.is_alive() for thread in self.threads)

    def start(self):
        for thread in self.threads:
            thread.start()

    def _run(self, faults):
        try:
            for fault in faults:
                while self.progress() < fault.at * self.planned:
                    if time.monotonic() > self.deadline:
                        self.log(f"chaos: deadline reached before {fault.kind}; stopping")
                        return
                    time.sleep(0.05)
                if fault.kind in BROKER_FAULTS + DATABASE_RESTARTS:
                    with self._exclusive:
                        self._fire(fault)
                else:
                    self._fire(fault)
                fault.done_at = time.monotonic() - self.started
                self.log(
                    f"chaos {fault.done_at:7.1f}s  {fault.kind:<16} {fault.target:<24} "
                    f"{fault.detail}  (requests sent: {self.progress()})"
                )
        except Exception as exc:  # reported; the suite fails on it
            self.error = exc
            self.log(f"chaos failed: {exc!r}")

    def _fire(self, fault):
        sup = self.supervisor
        if fault.kind in ("kill_pool_child", "kill_worker"):
            busy = sup.workers(self.busy_queues)
            alive = [name for name in busy if sup.procs[name].alive()] or busy
            least = min(self.worker_hits[name] for name in alive)
            fault.target = self.random.choice(
                [name for name in alive if self.worker_hits[name] == least]
            )
            self.worker_hits[fault.target] += 1
        if fault.kind == "kill_pool_child":
            pid = sup.kill_child(fault.target)
            fault.detail = f"pid {pid}" if pid else "no pool process alive (worker restarting)"
        elif fault.kind in ("kill_worker", "kill_relay"):
            pid = sup.kill_group(fault.target)
            fault.detail = f"pid {pid} and its group" if pid else "was not running"
        elif fault.kind == "kill_web_worker":
            pid = sup.kill_child("web")
            fault.detail = f"gunicorn worker pid {pid}" if pid else "no worker alive"
        elif fault.kind == "restart_web":
            started = time.monotonic()
            sup.restart("web")
            fault.detail = f"SIGTERM, restarted in {time.monotonic() - started:.1f}s"
        elif fault.kind == "terminate_db_sessions":
            fault.detail = f"{database_sessions_terminate(self.database_url)} sessions"
        elif fault.kind in DATABASE_RESTARTS:
            fault.detail = self._database_restart(fault.kind)
        elif fault.kind == "crash_broker":
            self.node.crash()
            took = self.node.start()
            fault.detail = f"kill -9 of the node; back after {took:.1f}s of boot"
        elif fault.kind == "stop_broker":
            hold = float(fault.detail)
            self.node.stop()
            time.sleep(hold)
            took = self.node.start()
            fault.detail = f"clean stop, held down {hold:.0f}s, back after {took:.1f}s of boot"
        elif fault.kind == "crash_leader":
            fault.detail = self._crash_leader()
        elif fault.kind == "stop_node":
            fault.detail = self._stop_node(float(fault.detail))
        elif fault.kind == "rolling_restart":
            fault.detail = self._rolling_restart()

    # --- the cluster's faults ---------------------------------------------------------
    def _consumers_back(self, down, since):
        """Wait until every work queue has a consumer while node `down` is away; a queue
        left without one is a problem (its workers did not reconnect to another node).
        Returns the seconds since `since` it took."""
        import celeryconfig
        from bench.faults.probes import wait_until

        names = {queue.name for queue in celeryconfig.WORK_QUEUES}

        def missing():
            queues = self.node.queues()
            return sorted(n for n in names if not queues.get(n, (None, 0, 0))[2])

        if not wait_until(lambda: not missing(), RECONNECT_TIMEOUT, pause=0.5):
            self.problems.append(
                f"with {down.node_name} down, no consumer on {missing()} after {RECONNECT_TIMEOUT}s"
            )
            return None
        return time.monotonic() - since

    def _crash_leader(self):
        cluster = self.node
        node, led = cluster.leader_of(self.busy_queues)
        self.crashed = node.node_name
        messages = sum(m for _, m in led)
        cluster_was = time.monotonic()
        node.crash()
        back = self._consumers_back(node, cluster_was)
        took = node.start()
        cluster.wait_running()
        return (
            f"kill -9 of {node.node_name}, leader of {len(led)} of the load's "
            f"{len(self.busy_queues)} queues "
            f"({messages} messages in them); consumers on every work queue within "
            f"{back if back is None else round(back, 1)}s; back after {took:.1f}s of boot"
        )

    def _stop_node(self, hold):
        cluster = self.node
        others = [n for n in cluster.nodes if n.node_name != self.crashed]
        node = self.random.choice(others)
        cluster.await_quorum_plus_one(node)
        stopping = time.monotonic()
        node.stop()
        down = time.monotonic()
        back = self._consumers_back(node, down)
        time.sleep(max(0.0, hold - (time.monotonic() - down)))
        held = time.monotonic() - down
        took = node.start()
        cluster.wait_running()
        return (
            f"clean stop of {node.node_name} (in {down - stopping:.1f}s), held down "
            f"{held:.0f}s; consumers on every work queue within "
            f"{back if back is None else round(back, 1)}s; back after {took:.1f}s of boot"
        )

    def _rolling_restart(self):
        cluster = self.node
        steps = []
        for node in cluster.nodes:
            waited = time.monotonic()
            cluster.await_quorum_plus_one(node)
            waited = time.monotonic() - waited
            stopped = time.monotonic()
            node.stop()
            back = self._consumers_back(node, stopped)
            node.start()
            cluster.wait_running()
            steps.append(
                f"{node.node_name.split('@')[0]} (quorum+1 after {waited:.0f}s, consumers "
                f"{back if back is None else round(back, 1)}s, back in "
                f"{time.monotonic() - stopped:.0f}s)"
            )
        return "one node at a time: " + ", ".join(steps)

    def _database_restart(self, kind):
        """Restart the suite's PostgreSQL under load, then check that every process of
        the system came through it without a restart of its own and uses the database
        again (probes.py). Returns the fault's detail line."""
        from bench.faults.probes import (
            beat_probe_install,
            beat_sent,
            wait_until,
            worker_probes_missing,
            worker_probes_publish,
        )

        sup = self.supervisor
        # A process killed by the previous fault is back first: its pid is compared.
        wait_until(sup.all_alive, 60, pause=0.25)
        before = {name: managed.pid for name, managed in sup.procs.items() if managed.alive()}
        if kind == "restart_postgres":
            took = self.database.restart_fast()
            what = f"pg_ctl restart -m fast in {took:.1f}s"
        else:
            took = self.database.crash_and_start(DATABASE_CRASH_HOLD)
            what = (
                f"pg_ctl stop -m immediate, held down {DATABASE_CRASH_HOLD:.0f}s, "
                f"started (crash recovery) in {took:.1f}s"
            )
        back = time.monotonic()
        self.restarts_seen += 1
        label = f"{self.restarts_seen}"
        probes = {}

        def publish():
            probes.update(worker_probes_publish(sup, label))
            return True

        problems = []
        if not wait_until(publish, RECOVERY_TIMEOUT):
            problems.append("could not publish the worker probes")
        self.probes.update(probes)
        beat_probe = f"faults-beat-probe-{label}"
        if not wait_until(lambda: beat_probe_install(beat_probe) or True, RECOVERY_TIMEOUT):
            problems.append("could not install the beat probe")
        if not wait_until(lambda: not worker_probes_missing(probes), RECOVERY_TIMEOUT):
            missing = worker_probes_missing(probes)
            problems.append(f"worker main processes recorded no failure for {missing}")
        if not wait_until(lambda: beat_sent(self.beat_log, beat_probe), RECOVERY_TIMEOUT):
            problems.append(f"beat did not read and send {beat_probe}")
        recovered = time.monotonic() - back
        restarted = [
            name
            for name, pid in before.items()
            if sup.procs[name].pid != pid or not sup.procs[name].alive()
        ]
        if restarted:
            problems.append(f"restarted or dead after the database restart: {restarted}")
        self.problems += [f"{kind} {label}: {problem}" for problem in problems]
        return (
            f"{what}; {len(before)} processes all kept their pid, {len(probes)} worker "
            f"failure records and beat's probe within {recovered:.1f}s"
            if not problems
            else f"{what}; " + "; ".join(problems)
        )
