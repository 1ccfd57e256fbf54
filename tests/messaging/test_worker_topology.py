"""A worker declares the whole topology it needs, or refuses to start with a reason."""

import json
import uuid

import pytest
from amqp.exceptions import NotFound
from django.utils import timezone
from kombu import Producer, Queue

import celeryconfig
from apps.messaging.broker import broker_connection, queue_status
from apps.messaging.models import MessageFailure
from tests.conftest import queue_depth, wait_until

pytestmark = pytest.mark.broker


def consuming(queue):
    try:
        with broker_connection() as connection:
            return connection.default_channel.queue_declare(queue=queue, passive=True)[2]
    except NotFound:
        return 0


def test_worker_on_an_empty_vhost_declares_its_topology(empty_vhost, start_worker):
    start_worker("complaints", env={"TEST_BROKER_VHOST": empty_vhost}, wait=False)
    wait_until(lambda: consuming("complaints"), timeout=60, message="worker consuming")
    missing = [row["name"] for row in queue_status() if not row["exists"]]
    assert missing == []  # work, dead-letter and retry delay queues
    # So a permanent failure is dead-lettered, not dropped by the broker.
    message_id = str(uuid.uuid4())
    envelope = {
        "event": "probe.breakable",
        "occurred_at": timezone.now().isoformat(),
        "data": {"key": "k"},
    }
    with broker_connection(confirm_publish=True) as connection:
        Producer(connection.default_channel).publish(
            json.dumps([[envelope], {}, {}]),
            exchange=celeryconfig.WORK_EXCHANGE.name,
            routing_key="complaints",
            content_type="application/json",
            content_encoding="utf-8",
            headers={"task": "probe.fail_unless_fixed", "id": message_id},
            delivery_mode=2,
        )
    wait_until(lambda: queue_depth("complaints.dlq") == 1, message="dead letter")
    assert "broken until" in MessageFailure.objects.get(message_id=message_id).reason


def test_worker_refuses_to_start_when_a_queue_has_other_arguments(empty_vhost, start_worker):
    # A queue declared by an older release, without the dead-lettering arguments.
    with broker_connection() as connection:
        Queue("complaints", celeryconfig.WORK_EXCHANGE, routing_key="complaints", durable=True)(
            connection.default_channel
        ).declare()
    worker = start_worker("complaints", env={"TEST_BROKER_VHOST": empty_vhost}, wait=False)
    assert worker.popen.wait(60) != 0
    logs = worker.logs()
    assert "refusing to start" in logs and "complaints" in logs and "broker migrate" in logs
