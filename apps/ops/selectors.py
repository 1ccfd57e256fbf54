"""Reads for health and metrics: the broker's queues (briefly cached) and the outbox."""

import threading
import time

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

import celeryconfig
from apps.messaging.broker import broker_connection
from apps.messaging.models import MessageFailure, OutboxMessage

_cache_lock = threading.Lock()
_cached = {"at": float("-inf"), "rows": None, "error": None}


def _queue_counts():
    """Each queue of the topology: ready messages and consumers, by passive declare.

    Over AMQP rather than the management API: the API's figures lag by its statistics
    interval (5 s by default), so a worker that just started would not count yet.
    A missing queue has None for both.
    """
    rows = []
    with broker_connection() as connection:
        channel = connection.channel()
        for queue in celeryconfig.WORK_QUEUES + celeryconfig.DEAD_LETTER_QUEUES:
            try:
                _, messages, consumers = channel.queue_declare(queue=queue.name, passive=True)
            except connection.channel_errors:
                # The broker closes a channel on a missing queue: continue on a new one.
                messages = consumers = None
                channel = connection.channel()
            rows.append({"name": queue.name, "messages": messages, "consumers": consumers})
        channel.close()
    return rows


def queue_status_cached():
    """Queue depths and consumers at most once per OPS_QUEUE_STATUS_CACHE_SECONDS per
    process, so that health polls and scrapes stay cheap. Raises (cached too) when the
    broker cannot be asked."""
    with _cache_lock:
        if time.monotonic() - _cached["at"] >= settings.OPS_QUEUE_STATUS_CACHE_SECONDS:
            try:
                _cached["rows"], _cached["error"] = _queue_counts(), None
            except Exception as exc:  # the broker down is a health result, not a crash
                _cached["rows"], _cached["error"] = None, exc
            _cached["at"] = time.monotonic()
        if _cached["error"] is not None:
            raise _cached["error"]
        return _cached["rows"]


def queue_status_cache_clear():
    with _cache_lock:
        _cached["at"] = float("-inf")


def work_queues(rows):
    names = set(celeryconfig.WORK_QUEUE_NAMES)
    return [row for row in rows if row["name"] in names]


def dead_letter_queues(rows):
    names = {q.name for q in celeryconfig.DEAD_LETTER_QUEUES}
    return [row for row in rows if row["name"] in names]


def _parking_field():
    # Parking of rows that keep failing comes with the messaging hardening work; until
    # the outbox has such a field there is nothing parked to report.
    names = {field.name for field in OutboxMessage._meta.get_fields()}
    return next((name for name in ("parked_at", "parked") if name in names), None)


def outbox_backlog():
    """Unpublished rows that are due, the age in seconds of the oldest, and how many
    rows are parked (None when the outbox has no parking)."""
    now = timezone.now()
    due = OutboxMessage.objects.filter(published_at__isnull=True).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )
    parking = _parking_field()
    parked = None
    if parking:
        lookup = {f"{parking}__isnull": False} if parking == "parked_at" else {parking: True}
        parked = OutboxMessage.objects.filter(**lookup).count()
        due = due.exclude(**lookup)
    summary = due.aggregate(rows=Count("id"), oldest=Min("created_at"))
    oldest = summary["oldest"]
    age = (now - oldest).total_seconds() if oldest else 0.0
    return {"unpublished": summary["rows"], "oldest_age_seconds": max(age, 0.0), "parked": parked}


def message_failures_by_consumer():
    return dict(MessageFailure.objects.values_list("consumer").annotate(n=Count("id")).order_by())
