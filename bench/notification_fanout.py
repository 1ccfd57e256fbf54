"""Profile of notification fan-out and batch delivery, in process, against PostgreSQL.

Fans one announcement out to USERS users by email (`notifications_request_for`), then
delivers those notifications the way the notifications consumer does (one call per
NOTIFICATION_BATCH_SIZE; one per notification before batches), to the file backend
(which honours idempotency keys, so a batch's attempts are committed together) and, with
`--locmem`, to Django's in-memory backend (which does not: one attempt at a time). Prints
the time (wall and this process's CPU), the SQL statements and the outbox rows of
each step. Nothing touches the broker
(the outbox rows are written, never published), and everything is rolled back.

    python -m bench.notification_fanout [USERS] [--locmem] [--profile]

`--profile` also prints a pyinstrument profile of each step.
"""

import os
import sys
import tempfile
import time
from contextlib import nullcontext

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propmgmt.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.messaging.models import OutboxMessage  # noqa: E402
from apps.notifications import services  # noqa: E402


class Rollback(Exception):
    pass


def deliver(ids):
    """Deliver as the consumers do: one call per batch message (per notification before
    batches existed)."""
    if hasattr(services, "notifications_deliver"):
        size = settings.NOTIFICATION_BATCH_SIZE
        for start in range(0, len(ids), size):
            services.notifications_deliver(ids[start : start + size])
    else:
        for notification_id in ids:
            services.notification_deliver(notification_id)


class QueryCounter:
    """Counts the SQL statements run (CaptureQueriesContext keeps only the last 9,000)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measured(label, step, profile):
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
    queries = QueryCounter()
    with connection.execute_wrapper(queries), profiler or nullcontext():
        started, cpu_started = time.perf_counter(), time.process_time()
        result = step()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"{label}: {elapsed:.2f} s, {cpu:.2f} s CPU in this process, {queries.count} queries")
    if profiler:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return result


BACKENDS = {
    "file": "apps.notifications.channels.FileEmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}


def main(count, backend, profile):
    settings.NOTIFICATION_EMAIL_BACKEND = BACKENDS[backend]
    settings.NOTIFICATION_EMAIL_FILE_PATH = tempfile.mkdtemp(prefix="bench-fanout-")
    mail.outbox = []
    try:
        with transaction.atomic():
            User.objects.bulk_create(
                User(username=f"bench-fanout-{i}", email=f"bench-fanout-{i}@example.com")
                for i in range(count)
            )
            users = list(User.objects.filter(username__startswith="bench-fanout-"))
            before = OutboxMessage.objects.count()
            created = measured(
                f"fan-out to {count} users",
                lambda: services.notifications_request_for(
                    users,
                    channel="email",
                    template="generic",
                    variables={"content": "Water off 9-12"},
                    category="general",
                ),
                profile,
            )
            print(
                f"  {len(created)} notifications, "
                f"{OutboxMessage.objects.count() - before} outbox rows"
            )
            ids = [n.id for n in created]
            measured(
                f"delivery of {len(ids)} emails ({backend} backend)", lambda: deliver(ids), profile
            )
            written = len(os.listdir(settings.NOTIFICATION_EMAIL_FILE_PATH))
            print(f"  {len(mail.outbox) + written} emails sent")
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    backend = "locmem" if "--locmem" in sys.argv else "file"
    main(int(arguments[0]) if arguments else 1000, backend, "--profile" in sys.argv)
