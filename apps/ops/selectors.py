"""Reads for health and metrics: the broker's queues (briefly cached) and the outbox."""

import threading
import time

from django.conf import settings
from django.db.models import Count

import celeryconfig
from apps.messaging.broker import broker_connection
from apps.messaging.models import MessageFailure

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


def work_queue_and_lane_names():
    """The work queues, each followed by its urgent lane where it has one (quorum
    queues): the queues workers consume."""
    return [
        name
        for queue in celeryconfig.WORK_QUEUE_NAMES
        for name in (queue, celeryconfig.URGENT_LANES.get(queue))
        if name
    ]


def work_queues(rows):
    """The rows of the work queues and their urgent lanes."""
    names = set(work_queue_and_lane_names())
    return [row for row in rows if row["name"] in names]


def dead_letter_queues(rows):
    names = {q.name for q in celeryconfig.DEAD_LETTER_QUEUES}
    return [row for row in rows if row["name"] in names]


def message_failures_by_consumer():
    return dict(MessageFailure.objects.values_list("consumer").annotate(n=Count("id")).order_by())
