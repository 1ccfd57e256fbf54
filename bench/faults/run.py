"""`make faults [SIZE=small|full]`: run the whole system as separate processes (web via
gunicorn, the outbox relay, one Celery worker per queue group, all as in the Procfile,
with the project's real settings) on a RabbitMQ node and a database of the suite's own,
under a load of repairs, complaints, visitor check-ins, parcels logged and picked up,
amenity bookings and cancellations posted through the REST API,
while a chaos plan kill -9s worker pool processes, whole workers, the relay and gunicorn
workers, terminates every database session of the system (pg_terminate_backend),
restarts its PostgreSQL server (pg_ctl restart -m fast, and an immediate stop: a crash
and WAL recovery) and checks after each restart that no process had to be restarted and
that every worker and beat use the database again (probes.py), crashes RabbitMQ once,
stops it for FAULTS_BROKER_DOWN seconds once and restarts the web process. When the
system is quiet it checks every effect (verify.py), prints the figures and exits 1 on any
loss or duplicate.

--cluster (`make faults CLUSTER=1`): the broker is a three-node RabbitMQ cluster of the
suite's own (node.py RabbitCluster: nodes propmgmt_faults_1..3@localhost, AMQP on
FAULTS_CLUSTER_AMQP_BASE + 1..3 (5691-5693), management and distribution on
FAULTS_CLUSTER_MANAGEMENT_BASE / FAULTS_CLUSTER_DIST_BASE + 1..3 (15691-15693,
25691-25693), data under var/faults/rabbitmq-cluster), every queue a quorum queue
(BROKER_QUEUE_TYPE=quorum) and every process given the failover list of the three nodes.
Instead of the single node's crash and stop, the chaos plan kill -9s the node that leads
most of the load's queues (the management API's `leader`) and restarts it, stops another
node for FAULTS_BROKER_DOWN seconds (20 small, 60 full) and, last, restarts the three
nodes one at a time as an upgrade does (each after `rabbitmq-upgrade
await_online_quorum_plus_one`); while a node is away every work queue must have a
consumer again within 90 s (the workers on it reconnected to another node). The other
faults are the same. The emergency broadcast part (scripts/faults.sh) is not run again.

Sizes and knobs (environment): FAULTS_REQUESTS (answered requests, at least), FAULTS_KILLS,
FAULTS_RELAY_KILLS, FAULTS_WEB_WORKER_KILLS, FAULTS_DB_TERMINATIONS, FAULTS_DB_RESTARTS,
FAULTS_DB_CRASHES, FAULTS_BROKER_DOWN (s), FAULTS_CLIENTS, FAULTS_SEED,
FAULTS_MAX_LOAD_SECONDS, FAULTS_DRAIN_SECONDS, FAULTS_TAMPER, FAULTS_POSTGRES_PORT,
FAULTS_POSTGRES_BIN, FAULTS_WEB_PORT, FAULTS_AMQP_PORT, FAULTS_MANAGEMENT_PORT,
FAULTS_DIST_PORT, FAULTS_CLUSTER_*_BASE. Everything it writes is under
var/faults/ (logs/, run/sms.log, run/mail/, postgresql/, rabbitmq/, summary.json).
"""

import argparse
import contextlib
import json
import os
import platform
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import environ
import psycopg2
import requests
from psycopg2 import sql

from bench.faults.chaos import Chaos, chaos_plan
from bench.faults.database import PostgresServer
from bench.faults.load import NO_RETRY_AFTER
from bench.faults.node import RabbitCluster, RabbitNode
from bench.faults.supervisor import Supervisor, system_commands

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var" / "faults"
# In the environment of every process the suite starts, so a later run can find leftovers.
RUN_MARKER = "PROPMGMT_FAULTS_RUN"
# A request may wait BROKER_PUBLISH_TIMEOUT (2 s) on a broker that is down; this is more.
SLOW_ANSWER = 5.0
# Seconds ahead the drain looks for held outbox rows coming due (verify() checks those due
# when it runs).
DUE_SOON = 20

SIZES = {
    # ~3-4 minutes on a 2-core machine; runs in CI.
    "small": {
        "requests": 400,
        "kills": 6,
        "relay_kills": 1,
        "web_worker_kills": 1,
        "db_terminations": 1,
        "db_restarts": 1,
        "db_crashes": 1,
        "broker_down": 10,
        "clients": 4,
        "max_load_seconds": 240,
        "drain_seconds": 240,
    },
    # What docs/RELIABILITY.md reports.
    "full": {
        "requests": 10000,
        "kills": 24,
        "relay_kills": 3,
        "web_worker_kills": 2,
        "db_terminations": 3,
        "db_restarts": 2,
        "db_crashes": 1,
        "broker_down": 30,
        "clients": 6,
        "max_load_seconds": 3600,
        "drain_seconds": 900,
    },
}


def log(message):
    print(f"[faults {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# The clean stop of one cluster node (--cluster), seconds, unless FAULTS_BROKER_DOWN says.
CLUSTER_NODE_DOWN = {"small": 20, "full": 60}


def config(size, cluster=False):
    cfg = dict(SIZES[size])
    if cluster:
        cfg["broker_down"] = CLUSTER_NODE_DOWN[size]
    for key in cfg:
        cfg[key] = int(os.environ.get(f"FAULTS_{key.upper()}", cfg[key]))
    env = os.environ.get
    cfg.update(
        size=size,
        seed=int(env("FAULTS_SEED", str(random.SystemRandom().randrange(10**6)))),
        postgres_port=int(env("FAULTS_POSTGRES_PORT", "5434")),
        web_port=int(env("FAULTS_WEB_PORT", "8103")),
        amqp_port=int(env("FAULTS_AMQP_PORT", "5673")),
        management_port=int(env("FAULTS_MANAGEMENT_PORT", "15673")),
        dist_port=int(env("FAULTS_DIST_PORT", "25673")),
        cluster=cluster,
        cluster_amqp_base=int(env("FAULTS_CLUSTER_AMQP_BASE", "5690")),
        cluster_management_base=int(env("FAULTS_CLUSTER_MANAGEMENT_BASE", "15690")),
        cluster_dist_base=int(env("FAULTS_CLUSTER_DIST_BASE", "25690")),
    )
    return cfg


def system_env(cfg, node):
    """The environment of every process of the system: the project's settings, pointed at
    the suite's own database, broker, ports and provider files."""
    run = VAR / "run"
    return {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "propmgmt.settings",
        "PYTHONUNBUFFERED": "1",
        RUN_MARKER: "1",
        "DATABASE_URL": cfg["database_url"],
        "CELERY_BROKER_URL": node.url,
        "RABBITMQ_MANAGEMENT_URL": node.management_url,
        # Quorum queues on the cluster (replicated on its three nodes); classic on one node.
        "BROKER_QUEUE_TYPE": "quorum" if cfg["cluster"] else "classic",
        "WEB_BIND": "127.0.0.1",
        "WEB_PORT": str(cfg["web_port"]),
        "SITE_URL": f"http://127.0.0.1:{cfg['web_port']}",
        "DEMO_DATA": "true",  # the load logs in as the demo users (world.py)
        # The providers' side, counted afterwards.
        "NOTIFICATION_SMS_BACKEND": "apps.notifications.channels.ConsoleSmsBackend",
        "SMS_FILE_PATH": str(run / "sms.log"),
        # Both providers honour the idempotency key (the SMS webhook's header, the email's
        # Message-ID), as the provider-once design assumes; a provider without keys makes
        # a kill after it accepted an `unknown` for an operator (test_provider_once.py).
        "NOTIFICATION_EMAIL_BACKEND": "apps.notifications.channels.FileEmailBackend",
        "NOTIFICATION_EMAIL_FILE_PATH": str(run / "mail"),
        # The load logs in a few dozen users at once.
        "AUTH_THROTTLE_RATE": "100000/min",
    }


def leftovers_kill():
    """Process groups a previous run started and left behind (it was killed itself)."""
    pids_file = VAR / "pids"
    if not pids_file.exists():
        return
    for pid in {int(p) for p in pids_file.read_text().split()}:
        try:
            marked = RUN_MARKER.encode() in Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if marked:
            log(f"killing process group {pid} that a previous run left behind")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    pids_file.unlink()


def database_recreate(url):
    db = environ.Env.db_url_config(url)
    params = {
        "dbname": "postgres",
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
        "connect_timeout": 10,
    }
    connection = psycopg2.connect(**{k: v for k, v in params.items() if v})
    connection.autocommit = True
    with connection.cursor() as cursor:
        name = sql.Identifier(db["NAME"])
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
    connection.close()


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.5)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


def web_up(base_url):
    return requests.get(base_url + "/api/v1/auth/me/", timeout=2).status_code in (401, 403)


def consumers_up():
    from bench.faults.verify import queue_depths

    return all(consumers for name, (_, consumers) in queue_depths().items() if ".dlq" not in name)


def drain(timeout):
    """Wait until every outbox row is published and finished by its consumer (twice in a
    row, 2 s apart); bounded by `timeout`. Rows held for later (a booking's reminder) are
    waited for when they come due within the timeout (and always the next DUE_SOON)."""
    from django.db import close_old_connections
    from django.utils import timezone

    from bench.faults.verify import outbox_pending

    started = time.monotonic()
    quiet_checks, last_log = 0, 0.0
    while time.monotonic() - started < timeout:
        close_old_connections()
        ahead = max(DUE_SOON, timeout - (time.monotonic() - started) - 10)
        unpublished, unfinished = outbox_pending(timezone.now() + timedelta(seconds=ahead))
        quiet_checks = quiet_checks + 1 if unpublished == unfinished == 0 else 0
        if quiet_checks >= 2:
            return time.monotonic() - started
        if time.monotonic() - last_log > 10:
            log(f"draining: {unpublished} unpublished, {unfinished} not yet processed")
            last_log = time.monotonic()
        time.sleep(2)
    log(f"not quiet after {timeout}s; checking anyway")
    return None


def tamper():
    """FAULTS_TAMPER=1: break one effect of each kind after the run, to show that every
    check can fail: one SMS and one email sent twice at the provider, one in-app
    notification lost, one duplicated, one report counter one too high."""
    from django.db.models import F

    from apps.notifications.models import Notification
    from apps.reporting.models import DailyPropertyStat

    sms = VAR / "run" / "sms.log"
    lines = sms.read_text().splitlines() if sms.exists() else []
    if lines:
        with sms.open("a") as file:
            file.write(lines[0] + "\n")
    mails = sorted((VAR / "run" / "mail").glob("*"))
    if mails:
        (mails[0].parent / f"copy-{mails[0].name}").write_bytes(mails[0].read_bytes())
    in_app = Notification.objects.filter(channel="in_app").order_by("created_at")
    in_app.first().delete()
    copy = in_app.last()
    copy.pk = None
    copy.save()
    DailyPropertyStat.objects.filter(pk=DailyPropertyStat.objects.first().pk).update(
        count=F("count") + 1
    )
    log(
        "tampered: 1 SMS and 1 email twice at the provider, 1 in-app notification lost, "
        "1 duplicated, 1 report counter +1"
    )


def print_report(cfg, load, supervisor, plan, chaos, figures, samples, problems, timings):
    statuses = load.summary()
    accepted = sum(n for s, n in statuses.items() if isinstance(s, int) and 200 <= s < 300)
    client_errors = {s: n for s, n in statuses.items() if isinstance(s, int) and 400 <= s < 500}
    # 503 with Retry-After is the designed answer when PostgreSQL ends a request's session
    # or is restarting; its outcome is unknown to the client, like no answer.
    unavailable = statuses.get(503, 0)
    unavailable_bare = sum(1 for o in load.outcomes if o.error.startswith(NO_RETRY_AFTER))
    server_errors = sum(
        n for s, n in statuses.items() if isinstance(s, int) and s >= 500 and s != 503
    )
    kinds = Counter(f.kind for f in plan if f.done_at is not None)
    by_operation = Counter(o.operation for o in load.outcomes)
    lines = [
        "",
        f"fault suite: size {cfg['size']}, seed {cfg['seed']}, "
        + ("3-node cluster, quorum queues, " if cfg["cluster"] else "")
        + f"broker starts {chaos.node.starts}, "
        f"load {timings['load']:.0f}s, drain {timings['drain']}, total {timings['total']:.0f}s",
        f"  requests                       {load.sent}  ({dict(by_operation)})",
        f"  accepted (2xx)                 {accepted}",
        f"  no answer (web restarting)     {statuses.get('no answer', 0)}",
        f"  4xx                            {sum(client_errors.values())}  {client_errors}",
        f"  503 (database unavailable)     {unavailable}, {unavailable_bare} without Retry-After",
        f"  other 5xx                      {server_errors}",
        "  latency p50/p95/max            "
        + ("/".join(f"{t:.2f}s" for t in load.latencies()) if load.latencies() else "-"),
        f"  answers slower than {SLOW_ANSWER:.0f}s         {len(load.slow(SLOW_ANSWER))}",
        "  process starts                 "
        + ", ".join(f"{m.name} {m.starts}" for m in supervisor.procs.values()),
    ]
    lines += [f"  {name:<30} {value}" for name, value in figures.items()]
    lines.append(
        "  faults                         "
        + ", ".join(f"{kind} x{n}" for kind, n in sorted(kinds.items()))
    )
    not_fired = [f.kind for f in plan if f.done_at is None]
    if not_fired:
        lines.append(f"  faults NOT fired               {not_fired}")
    for name, sample in samples.items():
        if sample:
            lines.append(f"  sample of {name}: {sample}")
    for outcome in sorted(load.slow(SLOW_ANSWER), key=lambda o: -o.seconds)[:5]:
        lines.append(
            f"  slow answer: {outcome.operation} {outcome.status} {outcome.seconds:.1f}s, "
            f"sent at {outcome.at - chaos.started:.0f}s (chaos times above)"
        )
    errors = [o for o in load.outcomes if o.status and o.status >= 400][:3]
    for outcome in errors:
        lines.append(f"  error answer: {outcome.operation} {outcome.status} {outcome.error}")
    print("\n".join(lines), flush=True)
    if server_errors:
        problems.append(f"{server_errors} answers were 5xx other than 503")
    if unavailable_bare:
        problems.append(f"{unavailable_bare} answers were 503 without Retry-After")
    if not_fired:
        problems.append(f"faults not fired: {not_fired}")
    if chaos.error:
        problems.append(f"chaos failed: {chaos.error!r}")
    print(("FAIL: " + "; ".join(problems)) if problems else "PASS", flush=True)
    return accepted


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument(
        "--cluster", action="store_true", help="a three-node cluster with quorum queues"
    )
    args = parser.parse_args(argv)
    cfg = config(args.size, cluster=args.cluster)
    started = time.monotonic()
    if cfg["cluster"]:
        node = RabbitCluster(
            VAR / "rabbitmq-cluster",
            amqp_base=cfg["cluster_amqp_base"],
            management_base=cfg["cluster_management_base"],
            dist_base=cfg["cluster_dist_base"],
            log=log,
        )
    else:
        node = RabbitNode(
            VAR / "rabbitmq",
            amqp_port=cfg["amqp_port"],
            dist_port=cfg["dist_port"],
            management_port=cfg["management_port"],
            log=log,
        )
    postgres = PostgresServer(VAR / "postgresql", port=cfg["postgres_port"], log=log)
    cfg["database_url"] = postgres.url
    env = system_env(cfg, node)
    os.environ.update({k: v for k, v in env.items() if k != "PATH"})
    supervisor = load = None

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        log(f"size {cfg['size']}: {cfg}")
        leftovers_kill()
        for sub in ("run", "logs"):
            subprocess.run(["rm", "-rf", str(VAR / sub)], check=True)
        (VAR / "run" / "mail").mkdir(parents=True)
        node.prepare()
        boot = {}
        booting = threading.Thread(target=lambda: boot.update(took=node.start()), daemon=True)
        booting.start()
        log(f"RabbitMQ {node.url} booting; creating the suite's PostgreSQL server")
        postgres.prepare()
        postgres.start()
        database_recreate(cfg["database_url"])
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        booting.join(timeout=420)
        if "took" not in boot:
            raise RuntimeError("RabbitMQ did not come up; see the logs under var/faults/rabbitmq*")
        log(f"RabbitMQ up after {boot['took']:.1f}s")

        import django

        django.setup()
        from django.core.management import call_command

        from bench.faults.load import Load, busy_queues
        from bench.faults.probes import beat_schedule_disable
        from bench.faults.verify import verify
        from bench.faults.world import world_create

        call_command("broker", "declare")
        beat_schedule_disable()
        supervisor = Supervisor(
            system_commands(ROOT),
            cwd=ROOT,
            env=env,
            log_dir=VAR / "logs",
            pids_file=VAR / "pids",
            log=log,
            seed=cfg["seed"],
        )
        supervisor.start_all()
        world = world_create()  # while the processes boot
        base_url = f"http://127.0.0.1:{cfg['web_port']}"
        wait_for(lambda: web_up(base_url), 120, "the web process")
        wait_for(consumers_up, 180, "a consumer on every work queue")
        log(f"system up: {', '.join(supervisor.procs)}")

        load = Load(base_url, world, clients=cfg["clients"], seed=cfg["seed"], log=log)
        load.login_all()
        plan = chaos_plan(
            kills=cfg["kills"],
            relay_kills=cfg["relay_kills"],
            web_worker_kills=cfg["web_worker_kills"],
            db_terminations=cfg["db_terminations"],
            db_restarts=cfg["db_restarts"],
            db_crashes=cfg["db_crashes"],
            broker_down=cfg["broker_down"],
            seed=cfg["seed"],
            cluster=cfg["cluster"],
        )
        load_started = time.monotonic()
        deadline = load_started + cfg["max_load_seconds"]
        chaos = Chaos(
            plan,
            supervisor=supervisor,
            node=node,
            database=postgres,
            database_url=cfg["database_url"],
            beat_log=VAR / "logs" / "beat.log",
            progress=lambda: load.answered,
            planned=cfg["requests"],
            log=log,
            deadline=deadline,
            seed=cfg["seed"],
            busy_queues=busy_queues(),
        )
        load.start()
        chaos.start()
        last = 0.0
        while (load.answered < cfg["requests"] or not chaos.done) and time.monotonic() < deadline:
            time.sleep(0.5)
            if time.monotonic() - last >= 15:
                last = time.monotonic()
                rate = load.sent / max(1.0, last - load_started)
                log(f"load: {load.sent} requests ({rate:.0f}/s), {dict(load.summary())}")
        load.join()
        load_seconds = time.monotonic() - load_started
        log(f"load done: {load.sent} requests in {load_seconds:.0f}s; waiting for the system")
        wait_for(lambda: supervisor.all_alive() and node.accepts_amqp(), 120, "all processes")
        drained = drain(cfg["drain_seconds"])
        if os.environ.get("FAULTS_TAMPER"):
            tamper()
        figures, samples, problems = verify(
            load.outcomes,
            sms_file=VAR / "run" / "sms.log",
            mail_dir=VAR / "run" / "mail",
            probes=chaos.probes,
        )
        problems += chaos.problems
        timings = {
            "load": load_seconds,
            "total": time.monotonic() - started,
            "drain": f"{drained:.0f}s" if drained is not None else "NOT QUIET",
        }
        if drained is None:
            problems.append("the system did not become quiet")
        accepted = print_report(
            cfg, load, supervisor, plan, chaos, figures, samples, problems, timings
        )
        summary = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cpus",
            "config": cfg,
            "timings": timings,
            "requests": load.sent,
            "accepted": accepted,
            "statuses": {str(k): v for k, v in load.summary().items()},
            "faults": [vars(f) for f in plan],
            "figures": figures,
            "problems": problems,
        }
        (VAR / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        return 1 if problems else 0
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    finally:
        if load is not None:
            load.stop.set()
        if supervisor is not None:
            supervisor.stop_all()
        node.stop(timeout=60)
        postgres.stop()
        log(f"stopped every process, the RabbitMQ node and PostgreSQL; logs in {VAR / 'logs'}")
