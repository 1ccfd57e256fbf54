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
from propmgmt.celery import app
from tests.conftest import queue_depth, wait_until
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect

pytestmark = pytest.mark.broker

EVENT = {"event": "probe.happened", "occurred_at": "2026-01-01T00:00:00Z", "data": {"key": "x"}}

TASK_BODY = json.dumps([[EVENT], {}, {}]).encode()
TASK = {"task": "probe.record"}
JSON = "application/json"
FAR_FUTURE = "2999-01-01T00:00:00+00:00"

# (name, body bytes, content type, headers besides the id, words the reason must contain)
POISON = [
    ("empty list", b"[]", JSON, TASK, "not [args, kwargs, embed]"),
    ("number", b"5", JSON, TASK, "not [args, kwargs, embed]"),
    ("object", b"{}", JSON, TASK, "not [args, kwargs, embed]"),
    ("null", b"null", JSON, TASK, "not [args, kwargs, embed]"),
    ("no embed", b"[[], {}]", JSON, TASK, "not [args, kwargs, embed]"),
    (
        "wrong arguments",
        json.dumps([[EVENT, "extra", 3], {"nope": 1}, {}]).encode(),
        JSON,
        TASK,
        "TypeError",
    ),
    ("unknown task", TASK_BODY, JSON, {"task": "probe.no_such_task"}, "unknown task"),
    ("bad json", b"{not json", JSON, TASK, "undecodable"),
    ("pickle", b"\x80\x04N.", "application/x-python-serialize", TASK, "not accepted"),
    ("no task header", TASK_BODY, JSON, {}, "no task header"),
    (
        "10 MB body",
        json.dumps([[{**EVENT, "data": {"blob": "x" * 10_000_000}}], {}, {}]).encode(),
        JSON,
        TASK,
        "exceeds",
    ),
    # Celery looks the name up before any strategy runs; an unhashable one stopped it.
    ("task header a list", TASK_BODY, JSON, {"task": ["probe.record"]}, "not a string"),
    ("task header a table", TASK_BODY, JSON, {"task": {"name": "probe.record"}}, "not a string"),
    ("protocol 1, task a list", b'{"task": [], "id": "x"}', JSON, {}, "not a string"),
    ("protocol 1", b'{"task": "probe.record", "id": "x"}', JSON, {}, "not [args, kwargs, embed]"),
    # A worker would hold it unacked until the ETA (or RabbitMQ's consumer timeout).
    ("eta far ahead", TASK_BODY, JSON, {**TASK, "eta": FAR_FUTURE}, "eta"),
    ("eta unparseable", TASK_BODY, JSON, {**TASK, "eta": "soon"}, "eta"),
    ("expires unparseable", TASK_BODY, JSON, {**TASK, "expires": "never"}, "expires"),
    ("retries a string", TASK_BODY, JSON, {**TASK, "retries": "many"}, "retries"),
    ("time limit raised", TASK_BODY, JSON, {**TASK, "timelimit": [10**9, None]}, "timelimit"),
    ("time limit a string", TASK_BODY, JSON, {**TASK, "timelimit": ["soon", None]}, "timelimit"),
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
    for name, body, content_type, headers, _ in POISON:
        ids[name] = str(uuid.uuid4())
        raw_publish("reporting", body, content_type, {"id": ids[name], **headers})
    wait_until(
        lambda: queue_depth("reporting.dlq") == len(POISON),
        timeout=60,
        message="every invalid message dead-lettered",
    )
    assert worker.popen.poll() is None, worker.logs()
    assert "Unrecoverable error" not in worker.logs()
    letters = {letter["message_id"]: letter for letter in dead_letters_list("reporting")}
    for name, *_, words in POISON:
        failure = MessageFailure.objects.get(message_id=ids[name])
        assert words in failure.reason, (name, failure.reason)
        assert failure.queue == "reporting"
        assert words in letters[ids[name]]["reason"], name
    # The same worker still serves well-formed messages, the time limits Celery's
    # send_task and beat put in every message (the task's configured ones) included.
    app.send_task(
        "probe.record",
        args=[{**EVENT, "data": {"key": "with-limits"}}],
        queue="reporting",
        time_limit=300,
        soft_time_limit=240,
    )
    wait_until(lambda: ProbeEffect.objects.filter(key="with-limits").exists())
    with transaction.atomic():
        publish(probe_event("probe.happened", {"key": "after-poison"}))
    wait_until(lambda: ProbeEffect.objects.filter(key="after-poison").exists())
