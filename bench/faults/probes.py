"""After a database restart: proof that each long-running process uses the database
again without having been restarted.

- Every worker's main process: a message naming a task nobody has is dead-lettered by
  the main process (DeadLetteringConsumer), which records why in MessageFailure on its
  own connection, the one the restart broke. One such message per worker; its record
  must appear.
- Beat: a new periodic task saved in the database must be read by beat (its
  `schedule_changed` query) and sent. Beat's own entries are installed disabled, so
  beat sends only these probes during a run (the real entries would send digests and
  escalations the verification does not expect).

Needs Django set up.
"""

import re
import time
from datetime import timedelta
from pathlib import Path

from django.db import close_old_connections
from django.utils import timezone
from kombu import Producer

import celeryconfig
from apps.messaging.broker import broker_connection
from apps.messaging.models import MessageFailure
from bench.faults.supervisor import worker_queues

PROBE_TASK = "faults.database_restart_probe"  # no worker knows it
BEAT_PROBE_TASK = "housekeeping.prune_messaging_records"  # harmless: nothing is old yet


def beat_schedule_disable():
    """Install beat's own entries disabled (beat installs only missing ones)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    for name, entry in celeryconfig.beat_schedule.items():
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": entry["task"], "interval": hourly, "enabled": False}
        )


def beat_probe_install(name):
    """A periodic task due at once (last run two hours ago, hourly)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    close_old_connections()
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.create(
        name=name,
        task=BEAT_PROBE_TASK,
        interval=hourly,
        last_run_at=timezone.now() - timedelta(hours=2),
        expires=timezone.now() + timedelta(minutes=30),
    )


def beat_sent(log_file, name):
    path = Path(log_file)
    text = path.read_text(errors="replace") if path.exists() else ""
    return re.search(rf"Sending due task {re.escape(name)}\b", text) is not None


def worker_probes_publish(supervisor, label):
    """One unknown-task message on the first queue of each worker; returns
    {message id: its dead-letter queue}."""
    probes = {}
    with broker_connection() as connection:
        producer = Producer(connection.channel())
        for name in supervisor.workers():
            queue = worker_queues(supervisor.procs[name].command)[0]
            message_id = f"faults-probe-{label}-{queue}"
            producer.publish(
                [[], {}, {}],
                exchange="",
                routing_key=queue,
                serializer="json",
                headers={"task": PROBE_TASK, "id": message_id},
                delivery_mode=2,
                # Ahead of a backlog on a priority queue: the probe times the worker's
                # recovery, not the queue's depth.
                priority=celeryconfig.MAX_PRIORITY,
            )
            probes[message_id] = celeryconfig.dead_letter_queue_name(queue)
    return probes


def worker_probes_missing(message_ids):
    close_old_connections()
    recorded = set(
        MessageFailure.objects.filter(message_id__in=list(message_ids)).values_list(
            "message_id", flat=True
        )
    )
    return sorted(set(message_ids) - recorded)


def wait_until(predicate, timeout, pause=1.0):
    """True once predicate() is true, False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # the database or broker not back yet
            close_old_connections()
        time.sleep(pause)
    return False
