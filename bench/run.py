"""Outbox publishing throughput against the real RabbitMQ and PostgreSQL.

Prints messages per second for: publishing with one outstanding confirm at a time (the
naive way), with a whole batch of confirms outstanding (what the relay does), and the
relay's full sweep (lock rows, publish, confirm, mark published). Runs on its own vhost
`propmgmt_bench` and deletes its rows afterwards.
"""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propmgmt.settings")
os.environ["CELERY_BROKER_URL"] = "amqp://guest:guest@127.0.0.1:5672/propmgmt_bench"

import django

django.setup()

from django.conf import settings  # noqa: E402

from apps.messaging.broker import topology_declare, vhost_delete, vhost_ensure  # noqa: E402
from apps.messaging.models import OutboxMessage  # noqa: E402
from apps.messaging.publisher import ConfirmingPublisher, outbox_publish_due  # noqa: E402

ENVELOPE = [{"event": "bench", "occurred_at": "2026-01-01T00:00:00+00:00", "data": {"n": 1}}]


def rows(count):
    return [
        OutboxMessage(
            event="bench",
            task_name="reporting.record_event",
            queue="reporting",
            payload=ENVELOPE,
            correlation_id="bench",
        )
        for _ in range(count)
    ]


def rate(count, seconds):
    return count / seconds if seconds else float("inf")


def main():
    vhost_delete("propmgmt_bench")
    vhost_ensure("propmgmt_bench")
    topology_declare()
    publisher = ConfirmingPublisher(settings.CELERY_BROKER_URL, timeout=30)
    try:
        one_by_one = rows(1000)
        start = time.perf_counter()
        for row in one_by_one:
            publisher.publish([row])
        naive = rate(len(one_by_one), time.perf_counter() - start)

        batched = rows(10000)
        start = time.perf_counter()
        for i in range(0, len(batched), 500):
            publisher.publish(batched[i : i + 500])
        batch = rate(len(batched), time.perf_counter() - start)
    finally:
        publisher.reset()

    stored = OutboxMessage.objects.bulk_create(rows(5000))
    try:
        start = time.perf_counter()
        published = 0
        while published < len(stored):
            published += outbox_publish_due(ids=[r.id for r in stored], limit=500)
        relay = rate(published, time.perf_counter() - start)
    finally:
        OutboxMessage.objects.filter(id__in=[r.id for r in stored]).delete()
        vhost_delete("propmgmt_bench")

    print(f"publish, one confirm at a time : {naive:9.0f} msg/s")
    print(f"publish, batches of 500 confirms: {batch:9.0f} msg/s  ({batch / naive:.1f}x)")
    print(f"relay sweep incl. PostgreSQL    : {relay:9.0f} msg/s  ({relay / naive:.1f}x)")


if __name__ == "__main__":
    main()
