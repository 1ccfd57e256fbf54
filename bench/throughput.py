"""Throughput of the whole pipeline against its ceilings, measured in one run (issue 9).

Starts every process of the Procfile itself (web, relay, the worker pools, beat, flower)
against a database and a RabbitMQ vhost of its own (BENCH_DATABASE, default
propmgmt_bench; vhost <database>_tp), emails to files under var/bench/, and prints:

  1. end to end: repairs/s fully delivered (staff in-app notice and email sent, the
     reporting counter updated) and messages/s, against the no-op Celery drain, and the
     CPU each repair costs, by process group, PostgreSQL and RabbitMQ;
  2. the API: POST /api/v1/repairs/ against a plain DRF create (bench.plain, token auth,
     same database): with every process running, and with publishing on but only the web
     and the relay running (the request path's own cost: its rate and web CPU per
     request); and p99 at a steady 100 req/s with publishing on and off;
  3. p99 from commit to the staff's in-app notice at a steady 50 repairs/s;
  4. a backlog queued with the workers stopped, then drained: time, none lost, none twice;
  5. peak RSS of each process group (web workers, each worker pool) during 1 and 4;
  6. the ceilings: raw kombu publish/consume of persistent messages, the no-op Celery
     drain (the notifications worker's settings; again with task events on and off, and
     the worker's CPU per task), the plain DRF create.

Each figure is the median of BENCH_RUNS (3) runs with its spread (min-max).
BENCH_SIZE=small for a quick run; `full` (default) is what docs/BENCHMARKS.md shows;
BENCH_BACKLOG overrides the backlog's size (full: 100,000).
"""

import os
import signal
import statistics
import subprocess
import sys
import threading
import time

from devtools.processes import ROOT, Process, free_port, procfile, procfile_argv, stop_all

BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/propmgmt")
DATABASE = os.environ.get("BENCH_DATABASE", "propmgmt_bench")
DATABASE_URL = BASE_URL.rsplit("/", 1)[0] + "/" + DATABASE
VHOST = os.environ.get("BENCH_VHOST", f"{DATABASE}_tp")
BROKER_URL = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
VAR = ROOT / "var" / "bench"
os.environ.update(
    DJANGO_SETTINGS_MODULE="bench.settings",
    DATABASE_URL=DATABASE_URL,
    CELERY_BROKER_URL=BROKER_URL,
    DEBUG="false",
    SECRET_KEY="bench-only-secret-key-not-for-production-use-0123456789",
    SECURE_SSL_REDIRECT="false",
    LOG_LEVEL="WARNING",
    LOG_PUBLISHED_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402
from kombu import Connection, Consumer, Exchange, Producer, Queue  # noqa: E402

import celeryconfig  # noqa: E402
from apps.accounts.models import Role, User  # noqa: E402
from apps.accounts.services import api_token_issue  # noqa: E402
from apps.messaging.broker import (  # noqa: E402
    broker_connection,
    topology_declare,
    vhost_delete,
    vhost_ensure,
)
from apps.messaging.models import OutboxMessage, ProcessedMessage  # noqa: E402
from apps.messaging.publisher import ConfirmingPublisher  # noqa: E402
from apps.notifications.models import Notification  # noqa: E402
from apps.properties.models import Property, Residency, StaffAssignment, Unit  # noqa: E402
from apps.repairs.models import RepairRequest  # noqa: E402
from apps.reporting.models import AppliedEvent, DailyPropertyStat  # noqa: E402

SIZES = {
    # repairs end to end, seconds of each load, backlog messages, ceiling messages
    "full": {"e2e": 1000, "load": 10, "backlog": 100_000, "noop": 20_000, "raw": 50_000},
    "small": {"e2e": 200, "load": 4, "backlog": 10_000, "noop": 5_000, "raw": 10_000},
}
SIZE = os.environ.get("BENCH_SIZE", "full")
N = SIZES[SIZE]
N["backlog"] = int(os.environ.get("BENCH_BACKLOG", N["backlog"]))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
RESIDENTS = 8
CLIENTS = 8
# Every worker line of the Procfile (generated from the consumer declarations), so that
# every work queue has its consumer.
WORKERS = [name for name in procfile() if name.startswith("worker-")]
EVERY_PROCESS = ["web", "relay", *WORKERS, "beat", "flower"]
REPAIR = {"category": "heating", "description": "No heat in the living room", "urgency": "normal"}


# --- processes ----------------------------------------------------------------------------
class Processes:
    """Procfile processes, each in a session of its own (so its pool can be signalled and
    measured as one group); RSS sampled every 0.2 s while `sampling`."""

    def __init__(self):
        self.web_port, self.flower_port = free_port(), free_port()
        self.running = {}
        self.peak_rss = {}
        self.sampling = False
        self._logs = VAR / "logs"
        threading.Thread(target=self._sample, daemon=True).start()

    def env(self, **extra):
        return {
            "WEB_PORT": str(self.web_port),
            "FLOWER_PORT": str(self.flower_port),
            "FLOWER_BASIC_AUTH": os.environ.get("FLOWER_BASIC_AUTH", "bench:bench-only-login"),
            "PROMETHEUS_MULTIPROC_DIR": str(VAR / "prometheus"),
            "NOTIFICATION_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "NOTIFICATION_EMAIL_FILE_PATH": str(VAR / "mail"),
            "SMS_FILE_PATH": str(VAR / "sms.log"),
            **extra,
        }

    def start(self, name, argv=None, **env):
        """The Procfile's `name` line (or `argv`), its output appended to logs/<name>.log."""
        self.running[name] = Process(
            argv or procfile_argv(name),
            log_dir=self._logs,
            log_name=name,
            env=self.env(**env),
            append=True,
        )

    def _sample(self):
        while True:
            time.sleep(0.2)
            if not self.sampling:
                continue
            out = subprocess.run(["ps", "-eo", "sid=,rss="], capture_output=True, text=True)
            by_session = {}
            for line in out.stdout.splitlines():
                sid, rss = line.split()
                by_session[int(sid)] = by_session.get(int(sid), 0) + int(rss)
            for name, process in list(self.running.items()):
                rss = by_session.get(process.pid, 0)
                self.peak_rss[name] = max(self.peak_rss.get(name, 0), rss)


POSTMASTER = "postgresql (backends that exited, their whole life)"


def cpu_seconds(processes):
    """CPU seconds used so far by each Procfile process group (its session, pool children
    that have exited included), each PostgreSQL backend connected to the bench's database
    (`pg:<pid>`), the rest of the PostgreSQL server and RabbitMQ. The machine is shared:
    the rest of PostgreSQL (other databases, the WAL writer, the checkpointer) and every
    RabbitMQ node on it also work for others, so only the groups and the bench database's
    backends are the bench's own. A backend that exits (DB_CONN_MAX_AGE closes each
    connection after 60 s) adds its whole life's CPU to the postmaster's children time,
    counted apart (POSTMASTER) so that `cpu_used_ms` can keep the part in its window."""
    tick = os.sysconf("SC_CLK_TCK")
    groups = {process.pid: name for name, process in processes.running.items()}
    used = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                comm, rest = f.read().rsplit(")", 1)
            fields = rest.split()
            name = groups.get(int(fields[3]))  # the session
            comm = comm.split("(", 1)[1]
            children = 0
            if name is None and comm == "postgres":
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    title = f.read().decode(errors="replace")
                own = f" {DATABASE} " in title
                if own:
                    name = f"pg:{pid}"
                else:
                    name = "postgresql (rest of the server, shared)"
                    if not title.startswith("postgres:"):  # the postmaster: its own path
                        children = sum(int(v) for v in fields[13:15]) / tick
            elif name is None and comm == "beam.smp":
                name = "rabbitmq (every node on the machine, shared)"
        except OSError:
            continue  # exited meanwhile
        if name:
            # utime stime, and for the groups' sessions cutime cstime (exited children);
            # the postmaster's children apart
            seconds = sum(int(v) for v in fields[11:15]) / tick - children
            used[name] = used.get(name, 0) + seconds
            if children:
                used[POSTMASTER] = used.get(POSTMASTER, 0) + children
    return used


def cpu_used_ms(before, after, count):
    """Milliseconds per item by name between two `cpu_seconds`; the bench database's
    backends summed, those that exited in between with what they used in the window:
    the postmaster's children time grew by their whole life (and by any other
    database's backends that exited: on a shared machine that part is not ours)."""
    used = {}
    exited_before = 0
    for name, seconds in before.items():
        if name.startswith("pg:") and name not in after:
            exited_before += seconds
    for name, seconds in after.items():
        key = "postgresql (bench database backends)" if name.startswith("pg:") else name
        delta = seconds - before.get(name, 0)
        if name == POSTMASTER:
            key, delta = "postgresql (bench database backends)", delta - exited_before
        used[key] = used.get(key, 0) + delta * 1000 / count
    return used


def stop_group(processes, names):
    """SIGTERM the named process groups, wait for them (SIGKILL after 30 s)."""
    stop_all([processes.running.pop(name) for name in names], timeout=30)


def wait_until(predicate, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit(f"bench: timed out after {timeout}s waiting for {message}")


def queue_consumers(queues):
    with broker_connection() as conn:
        channel = conn.channel()
        counts = [channel.queue_declare(queue=q, passive=True) for q in queues]
        channel.close()
    return counts  # (name, messages, consumers)


def workers_ready():
    queues = celeryconfig.WORK_QUEUE_NAMES
    return all(consumers for _, _, consumers in queue_consumers(queues))


def web_ready(processes):
    try:
        url = f"http://127.0.0.1:{processes.web_port}/api/v1/"
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


def start_everything(processes, **env):
    for name in EVERY_PROCESS:
        processes.start(name, **env)
    wait_until(lambda: web_ready(processes), 60, "web")
    wait_until(workers_ready, 60, "workers consuming")


# --- the world ------------------------------------------------------------------------------
def setup():
    VAR.mkdir(parents=True, exist_ok=True)
    call_command("db_create")
    call_command("migrate", verbosity=0, interactive=False)
    vhost_delete(VHOST)
    vhost_ensure(VHOST)
    topology_declare()
    prop, _ = Property.objects.get_or_create(code="bench", defaults={"name": "Bench Towers"})
    staff, created = User.objects.get_or_create(
        username="bench-maintenance", defaults={"role": Role.MAINTENANCE, "email": "fix@bench.test"}
    )
    if created:
        StaffAssignment.objects.create(staff=staff, property=prop, role=Role.MAINTENANCE)
    tokens = []
    for i in range(RESIDENTS):
        unit, _ = Unit.objects.get_or_create(property=prop, code=f"B-{i}")
        resident, created = User.objects.get_or_create(
            username=f"bench-resident-{i}",
            defaults={"role": Role.RESIDENT, "email": f"resident-{i}@bench.test"},
        )
        if created:
            Residency.objects.create(resident=resident, unit=unit, start_date="2020-01-01")
        tokens.append((api_token_issue(resident)[1], unit))
    return prop, tokens


def reset_data():
    """Each run starts from empty tables of what it counts (the world stays)."""
    OutboxMessage.objects.all().delete()
    ProcessedMessage.objects.all().delete()
    Notification.objects.all().delete()
    RepairRequest.objects.all().delete()
    DailyPropertyStat.objects.all().delete()
    # Reporting counts each repair once: a later run's repairs reuse earlier runs' ids.
    AppliedEvent.objects.all().delete()
    # The dead rows those deletes leave would slow every later phase where autovacuum is
    # off, as on this machine (conf.d/90-ci.conf); an installation runs with it on.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    with broker_connection() as conn:
        channel = conn.channel()
        for queue in celeryconfig.WORK_QUEUE_NAMES:
            channel.queue_purge(queue)
        channel.close()


# --- load -------------------------------------------------------------------------------------
class Client:
    def __init__(self, base, token):
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.base = base

    def post(self, path, body):
        response = self.session.post(self.base + path, json=body, timeout=30)
        if response.status_code != 201:
            raise SystemExit(f"bench: {path} answered {response.status_code}: {response.text}")
        return response


def closed_loop(processes, tokens, path, body_for, seconds=None, count=None):
    """CLIENTS threads posting back to back; returns requests/s and the CPU milliseconds
    per request of each process group and the bench database's backends, as measured
    meanwhile (work queued by the requests and done after the loop is not in them)."""
    base = f"http://127.0.0.1:{processes.web_port}"
    done = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds if seconds else None

    def run(i):
        token, unit = tokens[i % len(tokens)]
        client = Client(base, token)
        while True:
            with lock:
                if count is not None and done[0] >= count:
                    return
                done[0] += 1
            if stop_at and time.monotonic() >= stop_at:
                return
            client.post(path, body_for(unit))

    cpu_before = cpu_seconds(processes)
    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    # A thread's last turn counts itself in `done` and then stops without posting.
    total = count if count is not None else done[0] - CLIENTS
    return total / elapsed, cpu_used_ms(cpu_before, cpu_seconds(processes), total)


def open_loop(processes, tokens, path, body_for, rate, seconds):
    """Requests at a steady `rate`, each timed from when it was due (no coordinated
    omission); returns the latencies in seconds."""
    base = f"http://127.0.0.1:{processes.web_port}"
    total = int(rate * seconds)
    start = time.monotonic() + 0.2
    latencies = [None] * total
    lock = threading.Lock()
    next_index = [0]

    def run(i):
        token, unit = tokens[i % len(tokens)]
        client = Client(base, token)
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= total:
                return
            due = start + index / rate
            time.sleep(max(due - time.monotonic(), 0))
            client.post(path, body_for(unit))
            latencies[index] = time.monotonic() - due

    threads = [threading.Thread(target=run, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def percentile(values, p):
    values = sorted(values)
    return values[min(int(len(values) * p / 100), len(values) - 1)]


def repair_body(unit):
    return {**REPAIR, "unit": unit.id}


def plain_body_for(prop):
    return lambda unit: {**REPAIR, "property": prop.id, "unit": unit.id}


# --- the measurements -----------------------------------------------------------------------
def raw_kombu(count):
    """Persistent messages through plain kombu on a queue of the bench's own: publish
    (confirms outstanding, one wait at the end) and consume (prefetch 500, ack each)."""
    queue = Queue("bench.raw", Exchange("bench.raw", type="direct"), routing_key="bench.raw")
    body = b'{"n": 1, "pad": "' + b"x" * 150 + b'"}'
    with Connection(BROKER_URL) as conn:
        channel = conn.channel()
        queue(channel).declare()
        channel.queue_purge("bench.raw")
        channel.confirm_select()
        producer = Producer(channel, exchange=queue.exchange, routing_key="bench.raw")
        started = time.monotonic()
        for _ in range(count):
            producer.publish(
                body, delivery_mode=2, content_type="application/json", content_encoding="utf-8"
            )
        channel.basic_qos(0, 1, False)  # a round trip: every confirm has arrived before it
        publish_rate = count / (time.monotonic() - started)
        consumed = [0]

        def on_message(message):
            message.ack()
            consumed[0] += 1

        consume_channel = conn.channel()
        consume_channel.basic_qos(0, 500, False)
        started = time.monotonic()
        with Consumer(consume_channel, [queue], on_message=on_message, accept=None):
            while consumed[0] < count:
                conn.drain_events(timeout=10)
        consume_rate = count / (time.monotonic() - started)
        channel.queue_delete("bench.raw")
    return publish_rate, consume_rate


def bench_rows(count, task_name, queue, envelope_for):
    return [
        OutboxMessage(
            event="bench",
            task_name=task_name,
            queue=queue,
            payload=[envelope_for(i)],
            correlation_id="bench",
        )
        for i in range(count)
    ]


def publish_directly(rows):
    publisher = ConfirmingPublisher(BROKER_URL, timeout=60)
    try:
        for i in range(0, len(rows), 1000):
            outcome = publisher.publish(rows[i : i + 1000])
            assert outcome.error is None and not outcome.refused, outcome
    finally:
        publisher.close()


def depth(queue):
    [(_, messages, _)] = queue_consumers([queue])
    return messages


def unacked(queue):
    url = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@localhost:15672")
    from urllib.parse import quote

    info = requests.get(f"{url}/api/queues/{quote(VHOST, safe='')}/{queue}", timeout=5).json()
    return info.get("messages_unacknowledged", 0)


def notification_depth():
    return sum(depth(queue) for queue in celeryconfig.WORK_QUEUE_NAMES if "notifications" in queue)


def noop_drain(processes, count):
    """The email notifications worker's own Procfile line (it also drains the old
    `notifications` queue), on a backlog of no-op tasks there."""
    envelope = {"event": "bench", "occurred_at": "2026-01-01T00:00:00+00:00", "data": {}}
    publish_directly(bench_rows(count, "bench.noop", "notifications", lambda i: envelope))
    argv = procfile_argv("worker-notifications-email", extra_args="--include bench.tasks")
    processes.start("noop-drain", argv)
    wait_until(lambda: depth("notifications") < count, 60, "no-op drain started")
    started = time.monotonic()
    wait_until(lambda: depth("notifications") == 0, 600, "no-op drain")
    wait_until(lambda: unacked("notifications") == 0, 60, "no-op drain acknowledged")
    elapsed = time.monotonic() - started
    stop_group(processes, ["noop-drain"])
    return count / elapsed


def noop_task_events(processes, count, events):
    """The same no-op drain, the worker started first with task events on or off (a
    broadcast `disable_events`, as an operator would send), then `count` tasks queued:
    returns (tasks/s, CPU ms per task of the worker's process group)."""
    from propmgmt.celery import app

    argv = procfile_argv("worker-notifications-email", extra_args="--include bench.tasks")
    processes.start("noop-events", argv)
    wait_until(lambda: queue_consumers(["notifications"])[0][2] > 0, 60, "no-op worker")
    if not events:
        replies = app.control.disable_events(reply=True, timeout=5)
        assert replies, "bench: no worker answered disable_events"
    envelope = {"event": "bench", "occurred_at": "2026-01-01T00:00:00+00:00", "data": {}}
    cpu_before = cpu_seconds(processes).get("noop-events", 0)
    started = time.monotonic()
    publish_directly(bench_rows(count, "bench.noop", "notifications", lambda i: envelope))
    wait_until(lambda: depth("notifications") == 0, 600, "no-op drain")
    wait_until(lambda: unacked("notifications") == 0, 60, "no-op drain acknowledged")
    elapsed = time.monotonic() - started
    cpu_ms = (cpu_seconds(processes)["noop-events"] - cpu_before) * 1000 / count
    stop_group(processes, ["noop-events"])
    return count / elapsed, cpu_ms


def end_to_end(processes, tokens, prop, count):
    """`count` repairs posted by CLIENTS clients with everything running; done when every
    staff in-app notice and email is sent and the reporting counter has counted them."""
    ledger_before = ProcessedMessage.objects.count()
    cpu_before = cpu_seconds(processes)
    started = time.monotonic()
    closed_loop(processes, tokens, "/api/v1/repairs/", repair_body, count=count)

    def counted():
        total = DailyPropertyStat.objects.filter(property_id=prop.id, metric="repairs_opened")
        return total.aggregate(n=Sum("count"))["n"] or 0

    done = wait_until(
        lambda: (
            Notification.objects.filter(category="repair", status="sent").count() >= 2 * count
            and counted() >= count
        ),
        600,
        "end to end delivery",
    )
    elapsed = done - started
    messages = ProcessedMessage.objects.count() - ledger_before
    cpu_ms = cpu_used_ms(cpu_before, cpu_seconds(processes), count)
    return count / elapsed, messages / elapsed, cpu_ms


def latency_to_notice(processes, tokens, seconds):
    """Repairs at a steady 50/s; per repair, its in-app notice's sent_at minus the repair's
    created_at (stamped just before its INSERT, so an upper bound of commit to notice)."""
    since = RepairRequest.objects.order_by("-id").values_list("id", flat=True).first() or 0
    open_loop(processes, tokens, "/api/v1/repairs/", repair_body, 50, seconds)
    created = dict(RepairRequest.objects.filter(id__gt=since).values_list("id", "created_at"))
    notices = Notification.objects.filter(category="repair", channel="in_app", status="sent")

    def sent_at():
        rows = notices.values_list("variables__repair_id", "sent_at")
        return {int(repair_id): at for repair_id, at in rows if int(repair_id) in created}

    wait_until(lambda: len(sent_at()) >= len(created), 300, "notices")
    delays = [(at - created[repair_id]).total_seconds() for repair_id, at in sent_at().items()]
    return percentile(delays, 50), percentile(delays, 99)


def backlog(processes, prop, count):
    """`count` reporting messages queued (through the outbox and the relay) with every
    worker stopped; then the workers start: drain time, the ledger and the counter."""
    stop_group(processes, WORKERS)
    base = 10_000_000

    def envelope(i):
        return {
            "event": "repair.requested",
            "occurred_at": "2026-01-01T00:00:00+00:00",
            "data": {
                "repair_id": base + i,
                "property_id": prop.id,
                "unit_id": 1,
                "resident_id": 1,
                "category": "plumbing",
                "urgency": "normal",
                "requested_at": "2026-01-01T00:00:00+00:00",
                "status": "submitted",
                "version": 1,
            },
        }

    rows = bench_rows(count, "reporting.record_event", "reporting", envelope)
    queued_from = time.monotonic()
    for i in range(0, count, 5000):
        OutboxMessage.objects.bulk_create(rows[i : i + 5000])
    relayed = wait_until(lambda: depth("reporting") >= count, 600, "backlog queued by the relay")
    relay_rate = count / (relayed - queued_from)
    ledger_before = ProcessedMessage.objects.count()
    processes.sampling = True
    started = time.monotonic()
    for name in WORKERS:
        processes.start(name)
    ids = [str(row.id) for row in rows]

    def drained():
        return depth("reporting") == 0 and (
            ProcessedMessage.objects.count() - ledger_before >= count
        )

    done = wait_until(drained, 1800, "backlog drained")
    processes.sampling = False
    ledger = ProcessedMessage.objects.filter(
        consumer="reporting.record_event", message_id__in=ids
    ).count()
    # reset_data() emptied the counters: all that is counted now is the backlog's.
    opened = DailyPropertyStat.objects.filter(property_id=prop.id, metric="repairs_opened")
    counted = opened.aggregate(n=Sum("count"))["n"] or 0
    dead = depth("reporting.dlq")
    return done - started, count - ledger, counted - count, dead, relay_rate


def spread(values, fmt="{:.0f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    median = statistics.median(values)
    return f"{fmt.format(median)} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def _exit_on_signal(signum, frame):
    raise SystemExit(f"bench: stopped by signal {signum}")  # so the processes get stopped


def main():
    signal.signal(signal.SIGTERM, _exit_on_signal)
    started_at = time.monotonic()
    prop, tokens = setup()
    results = {
        key: []
        for key in (
            "raw_pub",
            "raw_con",
            "noop",
            "noop_events_on",
            "noop_events_off",
            "noop_cpu_on",
            "noop_cpu_off",
            "plain",
            "plain_web_cpu",
            "repairs",
            "repairs_off",
            "repairs_alone",
            "repairs_web_cpu",
            "repairs_relay_cpu",
            "p99_on",
            "p99_off",
            "p50_on",
            "e2e_repairs",
            "e2e_messages",
            "notice_p50",
            "notice_p99",
            "backlog_s",
            "lost",
            "twice",
            "dead",
            "relay",
        )
    }
    rss = {}
    cpu = {}
    processes = Processes()
    try:
        for run in range(RUNS):
            reset_data()
            print(f"run {run + 1}/{RUNS}: ceilings", flush=True)
            publish_rate, consume_rate = raw_kombu(N["raw"])
            results["raw_pub"].append(publish_rate)
            results["raw_con"].append(consume_rate)
            results["noop"].append(noop_drain(processes, N["noop"]))
            print(
                f"  raw publish {publish_rate:.0f}/s, consume {consume_rate:.0f}/s,"
                f" no-op drain {results['noop'][-1]:.0f}/s",
                flush=True,
            )
            for events in (True, False):
                rate, cpu_ms = noop_task_events(processes, N["noop"], events)
                key = "on" if events else "off"
                results[f"noop_events_{key}"].append(rate)
                results[f"noop_cpu_{key}"].append(cpu_ms)
                print(
                    f"  no-op drain, task events {key}: {rate:.0f}/s, {cpu_ms:.2f} ms CPU/task",
                    flush=True,
                )

            print(f"run {run + 1}/{RUNS}: API, publishing off, everything running", flush=True)
            start_everything(processes, BENCH_PUBLISH="off")
            plain, plain_cpu = closed_loop(
                processes, tokens, "/bench/plain/", plain_body_for(prop), seconds=N["load"]
            )
            results["plain"].append(plain)
            results["plain_web_cpu"].append(plain_cpu["web"])
            off, _ = closed_loop(
                processes, tokens, "/api/v1/repairs/", repair_body, seconds=N["load"]
            )
            results["repairs_off"].append(off)
            latencies = open_loop(
                processes, tokens, "/api/v1/repairs/", repair_body, 100, N["load"]
            )
            results["p99_off"].append(percentile(latencies, 99))
            p99 = percentile(latencies, 99) * 1000
            print(
                f"  plain {plain:.0f} req/s, repairs (off) {off:.0f} req/s,"
                f" p99 at 100/s {p99:.0f} ms",
                flush=True,
            )
            stop_group(processes, list(processes.running))

            # The request path with publishing on and nothing consuming: what the POST
            # and the relay cost, apart from the consumers' CPU on the same cores.
            print(f"run {run + 1}/{RUNS}: API, publishing on, web and relay only", flush=True)
            reset_data()
            for name in ("web", "relay"):
                processes.start(name)
            wait_until(lambda: web_ready(processes), 60, "web")
            alone, alone_cpu = closed_loop(
                processes, tokens, "/api/v1/repairs/", repair_body, seconds=N["load"]
            )
            results["repairs_alone"].append(alone)
            results["repairs_web_cpu"].append(alone_cpu["web"])
            results["repairs_relay_cpu"].append(alone_cpu["relay"])
            print(
                f"  repairs (on, nothing consuming) {alone:.0f} req/s; web CPU"
                f" {alone_cpu['web']:.1f} ms per POST against {plain_cpu['web']:.1f} per"
                " plain create",
                flush=True,
            )
            stop_group(processes, list(processes.running))

            print(f"run {run + 1}/{RUNS}: API and pipeline, publishing on", flush=True)
            reset_data()
            start_everything(processes)
            on, _ = closed_loop(
                processes, tokens, "/api/v1/repairs/", repair_body, seconds=N["load"]
            )
            results["repairs"].append(on)
            latencies = open_loop(
                processes, tokens, "/api/v1/repairs/", repair_body, 100, N["load"]
            )
            results["p99_on"].append(percentile(latencies, 99))
            results["p50_on"].append(percentile(latencies, 50))
            print(
                f"  repairs (on) {on:.0f} req/s, p99 at 100/s"
                f" {percentile(latencies, 99) * 1000:.0f} ms",
                flush=True,
            )
            wait_until(
                lambda: notification_depth() == 0 and depth("repair_requests") == 0,
                600,
                "API load drained",
            )

            print(f"run {run + 1}/{RUNS}: end to end, {N['e2e']} repairs", flush=True)
            processes.sampling = True
            reset_data()
            repairs_per_s, messages_per_s, cpu_ms = end_to_end(processes, tokens, prop, N["e2e"])
            results["e2e_repairs"].append(repairs_per_s)
            results["e2e_messages"].append(messages_per_s)
            for name, ms in cpu_ms.items():
                cpu.setdefault(name, []).append(ms)
            print(f"  {repairs_per_s:.1f} repairs/s, {messages_per_s:.0f} msg/s", flush=True)
            processes.sampling = False
            for name, peak in processes.peak_rss.items():
                rss.setdefault(("e2e", name), []).append(peak / 1024)
            processes.peak_rss.clear()

            print(f"run {run + 1}/{RUNS}: latency at 50 repairs/s", flush=True)
            reset_data()
            p50, p99 = latency_to_notice(processes, tokens, N["load"])
            results["notice_p50"].append(p50)
            results["notice_p99"].append(p99)
            print(f"  notice p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms", flush=True)

            print(f"run {run + 1}/{RUNS}: backlog of {N['backlog']}", flush=True)
            reset_data()
            seconds, lost, twice, dead, relay_rate = backlog(processes, prop, N["backlog"])
            results["relay"].append(relay_rate)
            results["backlog_s"].append(seconds)
            results["lost"].append(lost)
            results["twice"].append(twice)
            results["dead"].append(dead)
            for name, peak in processes.peak_rss.items():
                rss.setdefault(("backlog", name), []).append(peak / 1024)
            processes.peak_rss.clear()
            stop_group(processes, list(processes.running))
            # The runs so far, in case a later one does not finish.
            report(results, rss, cpu, time.monotonic() - started_at)
    finally:
        if processes.running:
            stop_group(processes, list(processes.running))


def report(r, rss, cpu, elapsed):
    med = {key: statistics.median(values) for key, values in r.items() if values}

    def ratio(a, b):
        return med[a] / med[b] if med.get(b) else float("nan")

    print()
    print(
        f"bench/throughput.py  size={SIZE}  runs={RUNS}  {time.strftime('%Y-%m-%d %H:%M')}"
        f"  median (min-max); {elapsed / 60:.1f} min"
    )
    print("6. ceilings")
    print(f"   raw kombu publish, persistent, confirms : {spread(r['raw_pub'])} msg/s")
    print(f"   raw kombu consume, persistent, ack each : {spread(r['raw_con'])} msg/s")
    print(f"   no-op Celery drain (notifications pool) : {spread(r['noop'])} msg/s")
    print(
        f"   no-op drain, task events on / off       : {spread(r['noop_events_on'])} /"
        f" {spread(r['noop_events_off'])} msg/s;"
        f" worker CPU {spread(r['noop_cpu_on'], '{:.2f}')} /"
        f" {spread(r['noop_cpu_off'], '{:.2f}')} ms per task"
    )
    print(f"   plain DRF create, token auth            : {spread(r['plain'])} req/s")
    print(
        f"   one relay, outbox -> broker (backlog)   : {spread(r['relay'])} msg/s"
        " (inserting the rows included)"
    )
    print("1. end to end (every Procfile process)")
    print(
        f"   repairs fully delivered                 : {spread(r['e2e_repairs'], '{:.1f}')}"
        f" repairs/s   (target >= 100)"
    )
    print(
        f"   messages consumed                       : {spread(r['e2e_messages'])} msg/s"
        f"   = {ratio('e2e_messages', 'noop'):.2f}x no-op drain (target >= 0.3)"
    )
    total = statistics.median([sum(run) for run in zip(*cpu.values(), strict=True)])
    own = [name for name in cpu if "shared" not in name]
    total_own = statistics.median([sum(run) for run in zip(*(cpu[n] for n in own), strict=True)])
    budget = (os.cpu_count() or 1) * 1000 / 100
    print(
        f"   CPU per repair, the bench's own         : {total_own:.0f} ms (its processes and"
        f" its database's backends; with the shared rest {total:.0f} ms;"
        f" at 100 repairs/s this machine has {budget:.0f} ms)"
    )
    for name, values in sorted(cpu.items(), key=lambda item: -statistics.median(item[1])):
        if statistics.median(values) >= 0.5:
            print(f"     {name:38}: {spread(values, '{:.1f}')} ms")
    print("2. POST /api/v1/repairs/")
    print(
        f"   closed loop, {CLIENTS} clients, publishing on  : {spread(r['repairs'])} req/s"
        f"   = {ratio('repairs', 'plain'):.2f}x plain DRF (target >= 0.5)"
    )
    print(
        f"   closed loop, publishing off             : {spread(r['repairs_off'])} req/s"
        f"   on/off = {ratio('repairs', 'repairs_off'):.2f} (target >= 0.9)"
    )
    print(
        f"   closed loop, publishing on, only web and relay running: {spread(r['repairs_alone'])}"
        f" req/s   = {ratio('repairs_alone', 'plain'):.2f}x plain DRF"
    )
    one = "{:.1f}"
    print(
        f"   web CPU per request, POST / plain create: {spread(r['repairs_web_cpu'], one)} /"
        f" {spread(r['plain_web_cpu'], one)} ms"
        f" = {ratio('plain_web_cpu', 'repairs_web_cpu'):.2f}x; relay"
        f" {spread(r['repairs_relay_cpu'], one)} ms per POST"
    )
    ms = "{:.0f}"
    print(
        f"   p99 at 100 req/s, publishing on         : "
        f"{spread([v * 1000 for v in r['p99_on']], ms)} ms (target <= 50;"
        f" p50 {med['p50_on'] * 1000:.0f} ms)"
    )
    print(
        f"   p99 at 100 req/s, publishing off        : "
        f"{spread([v * 1000 for v in r['p99_off']], ms)} ms"
    )
    print("3. commit -> staff in-app notice at 50 repairs/s")
    print(
        f"   p50 {spread([v * 1000 for v in r['notice_p50']], ms)} ms, "
        f"p99 {spread([v * 1000 for v in r['notice_p99']], ms)} ms (target p99 <= 100)"
    )
    print(f"4. backlog of {N['backlog']} messages, workers started")
    drain_rates = [N["backlog"] / s for s in r["backlog_s"]]
    print(
        f"   drain time {spread(r['backlog_s'], '{:.1f}')} s = {spread(drain_rates)} msg/s;"
        f" lost {max(r['lost'])}, processed twice {max(r['twice'])},"
        f" dead-lettered {max(r['dead'])}"
    )
    print("5. peak RSS (MiB, the process group: main process and its pool)")
    for (phase, name), values in sorted(rss.items()):
        print(f"   {phase:8} {name:24}: {spread(values)}")


if __name__ == "__main__":
    if "--help" in sys.argv:
        print(__doc__)
    else:
        main()
