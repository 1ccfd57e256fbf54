"""Hostile frames at the AMQP boundary: whatever any client publishes to a work queue,
every worker stays up, and every message is processed once or dead-lettered with a
reason.

Messages are published with py-amqp (no Celery, no kombu serialization) to the work
exchange and queues the project's own topology declares, consumed by one real worker
per queue group of the Procfile, shared by every batch. Each hypothesis example is one
batch: a mix of well-formed probe messages and hostile ones (headers of every AMQP
type, odd properties, bodies of every shape). Size: AMQP_FUZZ_EXAMPLES batches
(default 6), AMQP_FUZZ_SEED to replay a run; both are printed (pytest -s shows them).
"""

import datetime
import json
import os
import random
import time
import uuid
import zlib

import amqp
import pytest
from celery.utils.time import maybe_iso8601, maybe_make_aware
from django.conf import settings as django_settings
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from kombu import Connection

import celeryconfig
from apps.messaging.broker import broker_connection
from apps.messaging.deadletters import dead_letters_list
from apps.messaging.models import ProcessedMessage
from apps.messaging.worker import TASK_HEADERS
from tests.conftest import queue_depth, wait_until
from tests.probe.models import ProbeEffect

pytestmark = [pytest.mark.broker, pytest.mark.slow]

EXAMPLES = int(os.environ.get("AMQP_FUZZ_EXAMPLES", "6"))
SEED = int(os.environ.get("AMQP_FUZZ_SEED") or random.randrange(2**32))

# One worker per queue group, as the Procfile runs them.
QUEUE_GROUPS = (
    ("user_registration",),
    ("visitor_management",),
    ("repair_requests",),
    ("complaints",),
    ("reporting", "asset_management"),
    ("notifications_email", "notifications"),
    ("notifications_sms",),
    ("notifications_in_app",),
    ("announcements",),
)
QUEUES = [queue for group in QUEUE_GROUPS for queue in group]
TASK_NAMES = sorted({*celeryconfig.TASK_QUEUES, "probe.record", "no.such.task"})

# --- AMQP values ---------------------------------------------------------------------
text = st.text(max_size=20)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
    st.binary(max_size=20),
    st.datetimes(min_value=datetime.datetime(1970, 1, 2)),  # an AMQP timestamp
)
header_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
MISSING = object()


def maybe(strategy):
    return st.one_of(st.just(MISSING), strategy)


# --- hostile messages ---------------------------------------------------------------
bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    st.tuples(json_values, json_values, json_values).map(lambda t: json.dumps(t).encode()),
    st.binary(max_size=64),  # mostly invalid UTF-8 and invalid JSON
    st.just(b""),
    st.just(b'"' + b"x" * (celeryconfig.MESSAGE_MAX_BYTES + 1) + b'"'),
)
hostile_headers = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(TASK_HEADERS, header_values),
        "task": st.sampled_from(TASK_NAMES) | header_values,
        "id": st.just("fresh") | header_values,
        "compression": st.sampled_from(["application/x-gzip", "application/x-bz2", "zlib"])
        | header_values,
        "lang": header_values,
    },
)
unknown_headers = st.dictionaries(st.text(min_size=1, max_size=8), header_values, max_size=2)
properties = st.fixed_dictionaries(
    {},
    optional={
        "content_type": st.sampled_from(
            ["application/json", "application/x-python-serialize", "text/plain", ""]
        )
        | st.text(max_size=30),
        "content_encoding": st.sampled_from(["utf-8", "binary", "gzip", "latin-1"])
        | st.text(max_size=30),
        "priority": st.integers(0, 255),
        # Our producers never set it; a message that expires before a worker takes it
        # is dead-lettered by RabbitMQ ("expired").
        "expiration": st.integers(0, 60_000).map(str),
        "correlation_id": st.text(max_size=50),
        "message_id": st.text(max_size=50),
    },
)


@st.composite
def hostile_messages(draw):
    headers = {**draw(unknown_headers), **draw(hostile_headers)}
    body = draw(bodies)
    if headers.get("id") == "fresh":
        headers["id"] = str(uuid.uuid4())
    if draw(st.booleans()) and "compression" in headers:  # compressed, maybe mismatched
        body = zlib.compress(body)
    return {
        "queue": draw(st.sampled_from(QUEUES)),
        "headers": headers,
        "properties": draw(properties),
        "body": body,
        "key": None,
    }


@st.composite
def probe_messages(draw):
    """A well-formed message, with properties we may or may not send; processed once."""
    key = f"fuzz-{uuid.uuid4().hex}"
    event = {"event": "probe.happened", "occurred_at": "2026-01-01T00:00:00Z", "data": {"key": key}}
    props = draw(properties)
    props.pop("expiration", None)
    props.update(content_type="application/json", content_encoding="utf-8")
    return {
        "queue": draw(st.sampled_from(QUEUES)),
        "headers": {"id": str(uuid.uuid4()), "task": "probe.record", "retries": 0},
        "properties": props,
        "body": json.dumps([[event], {}, None]).encode(),
        "key": key,
    }


batches = st.lists(st.one_of(probe_messages(), hostile_messages()), min_size=1, max_size=8)


def expired(value):
    """Whether Celery would take this `expires` header for a moment already past."""
    try:
        moment = maybe_iso8601(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return moment is not None and maybe_make_aware(moment) < datetime.datetime.now(datetime.UTC)


def publish_raw(messages):
    """Publish with publisher confirms (waiting long: other tests load the broker too);
    return those the broker took. It refuses some frames itself (an infinite float in a
    header closes the connection): those reach no queue, so no worker."""
    taken = []
    connection = None
    for message in messages:
        if connection is None:
            connection = Connection(
                django_settings.CELERY_BROKER_URL,
                transport_options={
                    "confirm_publish": True,
                    "read_timeout": 30,
                    "write_timeout": 30,
                },
            )
        msg = amqp.Message(
            message["body"],
            application_headers=message["headers"],
            delivery_mode=2,
            **message["properties"],
        )
        try:
            connection.default_channel.basic_publish(
                msg, exchange=celeryconfig.WORK_EXCHANGE.name, routing_key=message["queue"]
            )
            taken.append(message)
        except amqp.exceptions.AMQPError as exc:
            print(f"AMQP fuzz: the broker refused a frame: {exc!r}")
            connection.collect()
            connection = None
    if connection is not None:
        connection.release()
    return taken


def dead_lettered_without_reason(queues):
    """Dead letters whose reason is not recorded (no MessageFailure) and that did not
    simply expire before any worker took them."""
    return [
        letter
        for queue in queues
        for letter in dead_letters_list(queue, limit=1000)
        if letter["attempts"] is None and not letter["reason"].startswith("expired")
    ]


def test_hostile_frames_dead_letter_with_a_reason_and_every_worker_lives(
    clean_queues, start_worker
):
    print(f"\nAMQP fuzz: seed {SEED}, {EXAMPLES} batches (AMQP_FUZZ_EXAMPLES, AMQP_FUZZ_SEED)")
    workers = [start_worker(*group, wait=False, relay=False) for group in QUEUE_GROUPS]
    for worker in workers:
        worker.wait_ready(timeout=90)
    published = {"messages": 0, "processed": 0, "dead_lettered": 0}

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: batches share workers
        suppress_health_check=list(HealthCheck),
    )
    @given(batches)
    def batch(messages):
        # Each batch (a replay of a failing one too) starts from empty dead-letter queues.
        with broker_connection() as connection:
            channel = connection.channel()
            for queue in QUEUES:
                channel.queue_purge(celeryconfig.dead_letter_queue_name(queue))
            channel.close()
        messages = publish_raw(messages)
        ids = [m["headers"]["id"] for m in messages if isinstance(m["headers"].get("id"), str)]

        # Celery acknowledges (drops) a message past its `expires`, as beat's runs are
        # meant to be when workers were down; unless it dead-letters for another reason.
        may_expire = sum(1 for m in messages if expired(m["headers"].get("expires")))

        def settled():
            processed = ProcessedMessage.objects.filter(message_id__in=ids).count()
            dead = sum(queue_depth(celeryconfig.dead_letter_queue_name(q)) for q in QUEUES)
            done = len(messages) - may_expire <= processed + dead <= len(messages)
            return done and (processed, dead)

        wait_until(settled, timeout=60, message=f"batch settled: {messages!r}")
        if may_expire:
            time.sleep(2)  # those that do not expire have had time to dead-letter
        processed, dead = settled()
        for worker in workers:
            assert worker.popen.poll() is None, worker.logs()
            assert "Unrecoverable error" not in worker.logs(), worker.logs()
        for message in messages:
            if message["key"]:
                assert ProbeEffect.objects.filter(key=message["key"]).count() == 1, message
        unexplained = dead_lettered_without_reason(QUEUES)
        assert not unexplained, [(d["reason"], d["task"], d["payload"]) for d in unexplained]
        published["messages"] += len(messages)
        published["processed"] += processed
        published["dead_lettered"] += dead

    batch()
    print(f"AMQP fuzz: seed {SEED}: {published}")
    assert published["messages"] > 0
