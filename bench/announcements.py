"""An emergency broadcast to every resident of one property, through the real queues.

Seeds one property with BENCH_RESIDENTS residents (default 10,000) in a database of its
own (BENCH_DATABASE, default `propmgmt_bench_announcements`) on a vhost of that name,
starts the workers the pipeline needs (announcements, notifications, repair_requests) and
an outbox relay, and prints:
- the no-op Celery drain: BENCH_NOOP no-op tasks through the notifications workers (the
  ceiling for messages per second on this machine, measured in the same run);
- the broadcast: in-app plus email (to a file backend) for every resident, from "send
  now" to every notification sent, its rate and its ratio to the no-op drain;
- an urgent repair submitted while the broadcast is delivered: seconds until its
  notices (maintenance in-app and email, managers' SMS) are all sent.
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from devtools.processes import ROOT, Process, stop_all

BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/propmgmt")
DATABASE = os.environ.get("BENCH_DATABASE", "propmgmt_bench_announcements")
VHOST = DATABASE
MAIL_DIR = Path(tempfile.mkdtemp(prefix="bench-announcements-mail-"))
ENV = {
    "DJANGO_SETTINGS_MODULE": "propmgmt.settings",
    "DATABASE_URL": BASE_URL.rsplit("/", 1)[0] + "/" + DATABASE,
    "CELERY_BROKER_URL": f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
    "NOTIFICATION_EMAIL_BACKEND": "apps.notifications.channels.FileEmailBackend",
    "NOTIFICATION_EMAIL_FILE_PATH": str(MAIL_DIR),
    "SMS_FILE_PATH": str(MAIL_DIR / "sms.log"),
    "LOG_LEVEL": "WARNING",
    "LOG_PUBLISHED_LEVEL": "WARNING",
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.accounts.models import Role, User  # noqa: E402
from apps.announcements.models import Announcement  # noqa: E402
from apps.announcements.services import announcement_create, announcement_send_now  # noqa: E402
from apps.messaging.broker import (  # noqa: E402
    broker_connection,
    topology_declare,
    vhost_delete,
    vhost_ensure,
)
from apps.notifications.models import Notification  # noqa: E402
from apps.properties.models import Property  # noqa: E402
from apps.repairs.services import repair_request_submit  # noqa: E402

RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", "10000"))
NOOP = int(os.environ.get("BENCH_NOOP", "5000"))
NOTIFICATION_WORKERS = int(os.environ.get("BENCH_NOTIFICATION_CONCURRENCY", "4"))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "1800"))

SEED = """
INSERT INTO properties_property (name, code, address, time_zone, quiet_hours_start,
  quiet_hours_end, created_at)
VALUES ('Bench Court', 'bench', '', 'UTC', '22:00', '07:00', now());
INSERT INTO properties_unit (property_id, code, floor, created_at)
SELECT p.id, 'BENCH-' || n, mod(n, 20)::text, now()
FROM generate_series(1, %(n)s) AS n, properties_property p WHERE p.code = 'bench';
INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,
  is_staff, is_active, date_joined, role, phone)
SELECT '!', false, 'resident' || n, '', '', 'resident' || n || '@example.com', false, true,
  now(), 'resident', ''
FROM generate_series(1, %(n)s) AS n;
INSERT INTO properties_residency (resident_id, unit_id, start_date, status)
SELECT u.id, un.id, current_date - 1, 'approved'
FROM accounts_user u JOIN properties_unit un ON un.code = 'BENCH-' || substr(u.username, 9)
WHERE u.username LIKE 'resident%%';
"""


def seed():
    call_command("db_create")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(SEED, {"n": RESIDENTS})
    prop = Property.objects.get(code="bench")
    staff = {}
    for role in (Role.MANAGER, Role.MAINTENANCE):
        user = User.objects.create(
            username=f"bench-{role}", email=f"{role}@example.com", role=role, phone="+15550100"
        )
        prop.assignments.create(staff=user, role=role)
        staff[role] = user
    return prop, staff


LOG_DIR = ROOT / "var" / "bench-logs"


def worker_start(queue, concurrency):
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "propmgmt",
        "worker",
        "-Q",
        queue,
        "-c",
        str(concurrency),
        "-P",
        "prefork",
        "-n",
        f"bench-{queue}@%h",
        "--include",
        "bench.tasks",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "WARNING",
    ]
    return Process(argv, log_dir=LOG_DIR, log_name=f"announcements-{queue}")


def relay_start():
    argv = [sys.executable, "manage.py", "outbox_relay"]
    return Process(argv, log_dir=LOG_DIR, log_name="announcements-relay")


def consumers(queue):
    with broker_connection() as conn:
        channel = conn.channel()
        _, messages, count = channel.queue_declare(queue=queue, passive=True)
        channel.close()
    return messages, count


def wait_for(predicate, what):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def noop_drain():
    """Seconds to drain NOOP no-op tasks from the notifications queue."""
    from bench.tasks import noop

    with broker_connection() as conn, conn.Producer() as producer:
        for _ in range(NOOP):
            noop.apply_async(queue="notifications", producer=producer)
    start = time.perf_counter()
    wait_for(lambda: consumers("notifications")[0] == 0, "the no-op drain")
    return time.perf_counter() - start


def main():
    prop, staff = seed()
    vhost_delete(VHOST)
    vhost_ensure(VHOST)
    topology_declare()
    processes = []  # stopped, by process group, at the end
    try:
        processes.append(worker_start("notifications", NOTIFICATION_WORKERS))
        wait_for(lambda: consumers("notifications")[1] > 0, "the notifications workers")
        noop_seconds = noop_drain()
        # The broadcast goes out on the per-channel queues, each with its own workers.
        for queue in ("notifications_in_app", "notifications_email", "notifications_sms"):
            processes.append(worker_start(queue, NOTIFICATION_WORKERS))
        processes += [worker_start("announcements", 2), worker_start("repair_requests", 1)]
        processes.append(relay_start())
        queues = (
            "announcements",
            "repair_requests",
            "notifications_in_app",
            "notifications_email",
            "notifications_sms",
        )
        wait_for(lambda: all(consumers(q)[1] for q in queues), "the workers")

        announcement = announcement_create(
            by=staff[Role.MANAGER],
            properties=[prop],
            category="emergency",
            title="Gas leak: leave the building now",
            body="Use the stairs.",
            by_email=True,
        )
        started = time.perf_counter()
        announcement_send_now(announcement, by=staff[Role.MANAGER])
        expected = 2 * RESIDENTS
        broadcast = Notification.objects.filter(template="announcement")
        wait_for(lambda: broadcast.count() >= expected // 10, "the broadcast to be under way")

        resident = User.objects.get(username="resident1")
        repair_started = time.perf_counter()
        repair = repair_request_submit(
            resident=resident, category="plumbing", description="Burst pipe", urgency="urgent"
        )
        notices = Notification.objects.filter(
            template__startswith="repair_", variables__repair_id=repair.pk
        )
        # maintenance in-app and email, the manager's SMS
        wait_for(lambda: notices.filter(status="sent").count() == 3, "the repair's notices")
        repair_latency = time.perf_counter() - repair_started
        pending_at_repair = broadcast.exclude(status="sent").count()

        wait_for(lambda: broadcast.filter(status="sent").count() >= expected, "the broadcast")
        seconds = time.perf_counter() - started
        status = Announcement.objects.get(pk=announcement.pk).status
    finally:
        stop_all(processes, timeout=30)
        vhost_delete(VHOST)
        shutil.rmtree(MAIL_DIR, ignore_errors=True)

    noop_rate = NOOP / noop_seconds
    rate = expected / seconds
    print(f"no-op Celery drain ({NOTIFICATION_WORKERS} processes): {noop_rate:8.0f} tasks/s")
    print(
        f"emergency broadcast to {RESIDENTS:,} residents (in-app + email, {expected:,} "
        f"notifications, announcement {status}): {seconds:.1f} s"
    )
    print(f"  delivery rate: {rate:8.0f} notifications/s ({rate / noop_rate:.2f}x the no-op drain)")
    print(
        f"urgent repair's 3 notices during the broadcast: {repair_latency:.1f} s "
        f"({pending_at_repair:,} broadcast notifications still undelivered then)"
    )


if __name__ == "__main__":
    main()
