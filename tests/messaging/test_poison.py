"""Structurally invalid messages dead-letter with a reason; the worker keeps running.

Each message is published as any client could (no Celery involved) to a real queue
consumed by a real worker.
"""

import json
import uuid

import pytest
from django.db import transaction
from kombu import Producer

import celeryconfig
from apps.messaging.broker import broker_connection
from apps.messaging.deadletters import dead_letters_list
from apps.messaging.models import MessageFailure
from apps.messaging.publisher import publish
from tests.conftest import queue_depth, wait_until
from tests.probe.models import ProbeEffect

pytestmark = pytest.mark.broker

EVENT = {"event": "probe.happened", "occurred_at": "2026-01-01T00:00:00+00:00", "data": {}}

# (name, body bytes, content type, task header or None, words the reason must contain)
POISON = [
    ("empty list", b"[]", "application/json", "probe.record", "not [args, kwargs, embed]"),
    ("number", b"5", "application/json", "probe.record", "not [args, kwargs, embed]"),
    ("object", b"{}", "application/json", "probe.record", "not [args, kwargs, embed]"),
    ("null", b"null", "application/json", "probe.record", "not [args, kwargs, embed]"),
    ("no embed", b"[[], {}]", "application/json", "probe.record", "not [args, kwargs, embed]"),
    (
        "wrong arguments",
        json.dumps([[EVENT, "extra", 3], {"nope": 1}, {}]).encode(),
        "application/json",
        "probe.record",
        "TypeError",
    ),
    (
        "unknown task",
        json.dumps([[EVENT], {}, {}]).encode(),
        "application/json",
        "probe.no_such_task",
        "unknown task",
    ),
    ("bad json", b"{not json", "application/json", "probe.record", "undecodable"),
    ("pickle", b"\x80\x04N.", "application/x-python-serialize", "probe.record", "not accepted"),
    (
        "no task header",
        json.dumps([[EVENT], {}, {}]).encode(),
        "application/json",
        None,
        "no task header",
    ),
    (
        "10 MB body",
        json.dumps([[{**EVENT, "data": {"blob": "x" * 10_000_000}}], {}, {}]).encode(),
        "application/json",
        "probe.record",
        "exceeds",
    ),
]


def raw_publish(queue, body, content_type, headers):
    with broker_connection(confirm_publish=True) as connection:
        Producer(connection.default_channel).publish(
            body,
            exchange=celeryconfig.WORK_EXCHANGE.name,
            routing_key=queue,
            content_type=content_type,
            content_encoding="utf-8" if content_type == "application/json" else "binary",
            headers=headers,
            delivery_mode=2,
        )


def test_invalid_messages_dead_letter_with_a_reason_and_the_worker_lives_on(
    clean_queues, start_worker
):
    worker = start_worker("reporting")
    ids = {}
    for name, body, content_type, task, _ in POISON:
        ids[name] = str(uuid.uuid4())
        headers = {"id": ids[name], **({"task": task} if task else {})}
        raw_publish("reporting", body, content_type, headers)
    wait_until(
        lambda: queue_depth("reporting.dlq") == len(POISON),
        timeout=60,
        message="every invalid message dead-lettered",
    )
    assert worker.process.poll() is None, worker.logs()
    assert "Unrecoverable error" not in worker.logs()
    letters = {letter["message_id"]: letter for letter in dead_letters_list("reporting")}
    for name, *_, words in POISON:
        failure = MessageFailure.objects.get(message_id=ids[name])
        assert words in failure.reason, (name, failure.reason)
        assert failure.queue == "reporting"
        assert words in letters[ids[name]]["reason"], name
    # The same worker still serves well-formed messages.
    with transaction.atomic():
        publish("probe.happened", {"key": "after-poison"})
    wait_until(lambda: ProbeEffect.objects.filter(key="after-poison").exists())
