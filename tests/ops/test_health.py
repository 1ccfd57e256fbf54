"""/healthz/ and /readyz/ against the real database, broker and worker processes."""

import datetime
import uuid

import pytest
from django.test import Client
from django.utils import timezone
from kombu import Producer

import celeryconfig
from apps.messaging.broker import broker_connection
from apps.messaging.models import OutboxMessage
from apps.ops import selectors
from tests.factories import OutboxMessageFactory
from tests.ops.conftest import ALL_QUEUES

pytestmark = [pytest.mark.broker]


def readyz():
    response = Client().get("/readyz/")
    return response.status_code, response.json()


def failing(body):
    return {name for name, check in body["checks"].items() if check["status"] != "ok"}


@pytest.mark.django_db
def test_healthz_says_the_process_is_up():
    response = Client().get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_every_queue_has_a_consumer(clean_queues, start_worker):
    start_worker(*ALL_QUEUES)
    status, body = readyz()
    assert (status, body["status"], failing(body)) == (200, "ok", set()), body
    assert set(body["checks"]) == {"database", "broker", "consumers", "outbox", "dead_letters"}


def test_not_ready_names_the_queues_without_a_consumer(clean_queues, start_worker):
    start_worker(*(q for q in ALL_QUEUES if q not in {"complaints", "notifications"}))
    status, body = readyz()
    assert status == 503 and failing(body) == {"consumers"}, body
    # With quorum queues the lane of `notifications` (a priority queue) is idle too.
    lane = ", notifications.urgent" if celeryconfig.QUORUM else ""
    assert (
        body["checks"]["consumers"]["detail"] == f"no consumer on complaints, notifications{lane}"
    )


def test_not_ready_while_an_old_outbox_row_waits(clean_queues, start_worker, settings):
    settings.OPS_OUTBOX_MAX_AGE = 30
    start_worker(*ALL_QUEUES, relay=False)  # as if the relay were down
    row = OutboxMessageFactory()
    assert readyz()[0] == 200  # young: the relay has time
    OutboxMessage.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=45)
    )
    status, body = readyz()
    assert status == 503 and failing(body) == {"outbox"}, body
    assert "1 unpublished rows, oldest 45s old" in body["checks"]["outbox"]["detail"]


def dead_letter_one(queue):
    """Publish a message to a work queue and reject it, as a consumer does."""
    with broker_connection(confirm_publish=True) as connection:
        Producer(connection.default_channel).publish(
            [{"event": "probe.happened", "data": {}}],
            exchange=celeryconfig.WORK_EXCHANGE.name,
            routing_key=queue,
            serializer="json",
            headers={"task": "probe.record", "id": str(uuid.uuid4())},
            delivery_mode=2,
        )
        channel = connection.channel()
        index = celeryconfig.WORK_QUEUE_NAMES.index(queue)
        celeryconfig.WORK_QUEUES[index](channel).get(no_ack=False).reject(requeue=False)
        channel.close()


@pytest.mark.django_db(transaction=True)
def test_not_ready_while_dead_letters_grow_and_ready_again_after(clean_queues, settings):
    # No consumers here: the consumer check fails too; this test is about dead letters.
    settings.OPS_QUEUE_STATUS_CACHE_SECONDS = 0
    settings.OPS_DEAD_LETTER_WINDOW = 2
    assert "dead_letters" not in failing(readyz()[1])
    dead_letter_one("complaints")
    from tests.conftest import wait_until

    wait_until(lambda: "dead_letters" in failing(readyz()[1]), 10, message="growth seen")
    body = readyz()[1]
    assert body["checks"]["dead_letters"]["detail"] == "dead letters growing: complaints.dlq +1"
    # Still one dead letter, but no longer growing once the window has passed.
    wait_until(lambda: "dead_letters" not in failing(readyz()[1]), 10, message="steady")


@pytest.mark.django_db(transaction=True)
def test_the_queues_are_asked_once_per_cache_period(monkeypatch, settings):
    settings.OPS_QUEUE_STATUS_CACHE_SECONDS = 60
    calls = []
    real = selectors._queue_counts
    monkeypatch.setattr(selectors, "_queue_counts", lambda: calls.append(1) or real())
    for _ in range(5):
        readyz()
    assert len(calls) == 1


@pytest.mark.django_db(transaction=True)
def test_urgent_lanes_have_their_depth_in_the_metrics_and_readiness(clean_queues):
    """An urgent message waits in its lane (quorum queues: `<queue>.urgent`; classic: in
    the queue, by priority): the metrics show it where it waits; readiness names a lane
    that has no consumer."""
    from apps.ops.metrics import exposition
    from tests.ops.test_metrics_and_flower import samples, value

    urgent = celeryconfig.URGENCY_PRIORITY[celeryconfig.URGENCY_URGENT]
    lane = celeryconfig.routing_key_for("repair_requests", urgent)
    assert (lane == "repair_requests.urgent") is celeryconfig.QUORUM
    with broker_connection(confirm_publish=True) as connection:
        for routing_key in (lane, lane, "repair_requests"):
            Producer(connection.default_channel).publish(
                [[], {}, None],
                exchange=celeryconfig.WORK_EXCHANGE.name,
                routing_key=routing_key,
                serializer="json",
                headers={"task": "probe.record", "id": str(uuid.uuid4())},
                delivery_mode=2,
                priority=urgent if routing_key == lane else None,
            )
    scraped = samples(exposition().decode())
    queues = {
        dict(labels)["queue"] for name, labels in scraped if name == "propmgmt_queue_messages"
    }
    assert queues == {*celeryconfig.WORK_QUEUE_NAMES, *celeryconfig.URGENT_LANES.values()}
    if celeryconfig.QUORUM:
        assert value(scraped, "propmgmt_queue_messages", queue="repair_requests.urgent") == 2
        assert value(scraped, "propmgmt_queue_messages", queue="repair_requests") == 1
    else:
        assert value(scraped, "propmgmt_queue_messages", queue="repair_requests") == 3
    # Readiness names a lane without a consumer, as it names a work queue.
    status, body = readyz()
    idle = body["checks"]["consumers"]["detail"].removeprefix("no consumer on ").split(", ")
    assert status == 503 and "repair_requests" in idle
    assert ("repair_requests.urgent" in idle) is celeryconfig.QUORUM
