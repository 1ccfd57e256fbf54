"""What counts as a redelivery after a lost worker, and the worker's own database
connection: real worker processes, PostgreSQL and RabbitMQ."""

import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone

import celeryconfig
from apps.messaging.broker import broker_connection, topology_declare
from apps.messaging.models import DeliveryAttempt, MessageFailure
from propmgmt.celery import app
from tests.conftest import queue_depth, wait_until
from tests.messaging.test_poison import raw_publish
from tests.probe.models import ProbeEffect

pytestmark = pytest.mark.broker


def event(key, **data):
    return {
        "event": "probe.happened",
        "occurred_at": timezone.now().isoformat(),
        "data": {"key": key, **data},
    }


def test_a_requeue_after_an_unpublishable_retry_pauses_and_counts_no_lost_worker(
    clean_queues, start_worker
):
    worker = start_worker("notifications", relay=False)
    # The retry cannot be published: its exchange is gone (a broker that refuses).
    with broker_connection() as conn:
        channel = conn.channel()
        channel.exchange_delete(celeryconfig.DELAY_EXCHANGE.name)
        channel.close()
    try:
        message_id = str(uuid.uuid4())
        app.send_task(
            "probe.flaky", args=[event("flaky")], queue="notifications", task_id=message_id
        )
        wait_until(
            lambda: worker.logs().count("could not schedule the retry") >= 2,
            timeout=20,
            message="the retry failed and the message came back",
        )
        # No spin: each requeue waits (REQUEUE_PAUSE_SECONDS, 2 s) before it.
        attempts = worker.logs().count("could not schedule the retry")
        time.sleep(6)
        assert worker.logs().count("could not schedule the retry") <= attempts + 4
        # A broker that refused a retry killed no worker: nothing counted, nothing
        # dead-lettered as poison.
        assert not MessageFailure.objects.filter(message_id=message_id).exists()
        assert not DeliveryAttempt.objects.filter(
            message_id=message_id, redeliveries__gt=0
        ).exists()
    finally:
        topology_declare()


def test_a_message_already_done_is_acknowledged_not_dead_lettered_past_the_limit(
    clean_queues, start_worker
):
    worker = start_worker("reporting", relay=False, env={"MESSAGE_MAX_REDELIVERIES": "0"})
    message_id = str(uuid.uuid4())
    app.send_task(
        "probe.die_after_commit", args=[event("done")], queue="reporting", task_id=message_id
    )
    wait_until(lambda: "WorkerLostError" in worker.logs(), message="the worker was lost")
    wait_until(
        lambda: queue_depth("reporting") == 0 and "already done" in worker.logs(),
        timeout=20,
        message="the redelivered copy settled",
    )
    assert ProbeEffect.objects.filter(key="done").count() == 1
    assert queue_depth("reporting.dlq") == 0
    assert not MessageFailure.objects.filter(message_id=message_id).exists()


def test_failure_records_survive_a_terminated_database_connection_of_the_worker(
    clean_queues, start_worker
):
    worker = start_worker("reporting", relay=False)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    raw_publish("reporting", b"[]", "application/json", {"id": first, "task": "probe.record"})
    wait_until(lambda: MessageFailure.objects.filter(message_id=first).exists())
    # As a PostgreSQL restart would: every session of the test database but this one.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    raw_publish("reporting", b"[]", "application/json", {"id": second, "task": "probe.record"})
    wait_until(lambda: queue_depth("reporting.dlq") == 2, message="both dead-lettered")
    wait_until(
        lambda: MessageFailure.objects.filter(message_id=second).exists(),
        timeout=5,
        message=f"the second reason recorded:\n{worker.logs()[-3000:]}",
    )
    assert worker.popen.poll() is None
