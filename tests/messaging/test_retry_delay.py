"""Retries wait in the broker's delay queues, not in a worker; database errors retry.

Real PostgreSQL, RabbitMQ and worker processes.
"""

import datetime
import time

import psycopg2
import pytest
from django.db import connection, transaction
from django.utils import timezone

import celeryconfig
from apps.messaging.broker import broker_connection, topology_declare
from apps.messaging.models import DeliveryAttempt, MessageFailure, OutboxMessage
from apps.messaging.publisher import publish
from propmgmt.celery import app
from tests.conftest import queue_depth, wait_until
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect

pytestmark = pytest.mark.broker

DELAY_20 = celeryconfig.delay_queue_name(20)
DELAY_60 = celeryconfig.delay_queue_name(60)


def committed_publish(event, data, **kwargs):
    with transaction.atomic():
        return publish(probe_event(event, data), **kwargs)


def effects(key):
    return list(ProbeEffect.objects.filter(key=key))


@pytest.mark.slow
def test_retry_due_in_20s_survives_a_worker_kill_and_runs_once_on_time(clean_queues, start_worker):
    # 20 s, a tier real retries use too (celeryconfig.RETRY_DELAY_LEVELS): longer than
    # killing the worker and starting another under load, so the retry waits through both.
    first = start_worker("repair_requests")
    [row] = committed_publish("probe.retried", {"key": "later", "retry_in": 20})
    wait_until(lambda: queue_depth(DELAY_20) == 1, message="the retry waits in the broker")
    failed_at = timezone.now()
    # The retry is confirmed before the attempt is acknowledged, and a queue's depth
    # counts no message held unacknowledged: kill only once the worker's main process has
    # acknowledged the attempt, and the broker has applied that. A quorum queue applies an
    # acknowledgement after it is sent (through its Raft log): killed at once after it, the
    # attempt came back in 2 of 4 runs, 50 ms or 300 ms after it in none of 8 (classic: in
    # none of 5 at once); killed before it, it always came back (docs/MESSAGING.md).
    wait_until(
        lambda: f"{row.id}] acknowledged; its retry waits" in first.logs(),
        message="the attempt acknowledged",
    )
    time.sleep(0.5)
    # Nothing is held by the worker: killing it loses and redelivers nothing.
    assert queue_depth("repair_requests") == 0
    first.kill()
    time.sleep(1)
    assert queue_depth("repair_requests") == 0 and queue_depth(DELAY_20) == 1
    start_worker("repair_requests")
    [effect] = wait_until(lambda: effects("later"), timeout=50, message="the retry ran")
    assert effect.message_id == str(row.id)  # same message id: the ledger still applies
    assert effect.priority == "retry1"  # its retry count travelled with it
    waited = effect.created_at - failed_at
    assert datetime.timedelta(seconds=15) <= waited <= datetime.timedelta(seconds=30), waited
    assert not DeliveryAttempt.objects.filter(redeliveries__gt=0).exists()
    time.sleep(2)
    assert len(effects("later")) == 1 and queue_depth(DELAY_20) == 0


def test_a_retry_scheduled_twice_runs_once(clean_queues, start_worker):
    worker = start_worker("repair_requests")
    envelope = {
        "event": "probe.retried",
        "occurred_at": timezone.now().isoformat(),
        "data": {"key": "twice"},
    }
    # As if a worker died after publishing the retry and before acknowledging the attempt,
    # and the redelivered attempt published the same retry again.
    for _ in range(2):
        app.send_task(
            "probe.transient_once",
            args=[envelope],
            task_id="retry-twice",
            retries=1,
            queue="repair_requests",
        )
    wait_until(lambda: "retry 1 of message retry-twice" in worker.logs(), message="skip")
    assert len(effects("twice")) == 1


def test_urgent_repairs_overtake_normal_ones_while_retries_wait(clean_queues, start_worker):
    start_worker("repair_requests")
    for i in range(5):
        committed_publish("probe.retried", {"key": f"waiting-{i}"})
    wait_until(lambda: queue_depth(DELAY_60) == 5, message="five retries waiting")
    # One commit, so the relay publishes the backlog as one batch.
    with transaction.atomic():
        for i in range(20):
            publish(
                probe_event("probe.slow_repair", {"key": "backlog", "label": f"normal-{i}"}),
                urgency="normal",
            )
        publish(
            probe_event("probe.slow_repair", {"key": "backlog", "label": "urgent"}),
            urgency="urgent",
        )
    wait_until(lambda: len(effects("backlog")) == 21, timeout=60, message="backlog processed")
    order = [effect.priority for effect in effects("backlog")]
    # The worker holds at most one message beyond the running one, so the urgent repair
    # is at worst third (held ETA retries used to widen the prefetch window).
    assert order.index("urgent") <= 2, order


def test_lost_database_connection_is_retried_not_dead_lettered(clean_queues, start_worker):
    worker = start_worker("reporting")
    [row] = committed_publish("probe.db_blip", {"key": "blip"})
    [effect] = wait_until(lambda: effects("blip"), timeout=30, message="retried after the blip")
    assert effect.priority == "retry1" and effect.message_id == str(row.id)
    assert "transient error in probe.db_blip" in worker.logs()
    assert not MessageFailure.objects.exists() and queue_depth("reporting.dlq") == 0


def _database_connections(allowed):
    """Refuse (or allow again) new connections to this test's database and end the
    worker's, as a PostgreSQL outage would. Run from the server's maintenance database,
    since PostgreSQL will not disallow connections to the current one."""
    name = connection.settings_dict["NAME"]
    own = connection.cursor().connection.info.backend_pid
    admin = psycopg2.connect(**{**connection.get_connection_params(), "dbname": "postgres"})
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {allowed}')
            if not allowed:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> %s",
                    [name, own],
                )
    finally:
        admin.close()


def test_failure_that_cannot_be_recorded_goes_back_to_its_queue(clean_queues, start_worker):
    worker = start_worker("complaints")
    [row] = committed_publish("probe.fail_slowly", {"key": "unrecorded", "seconds": 3})
    wait_until(lambda: "probe.fail_slowly" in worker.logs(), message="task started")
    _database_connections(allowed=False)
    try:
        wait_until(
            lambda: queue_depth("complaints.dlq") or "could not record why" in worker.logs(),
            timeout=30,
            message="the failure handled while the database is down",
        )
        time.sleep(1)
        # Not dead-lettered without its reason.
        assert queue_depth("complaints.dlq") == 0
    finally:
        _database_connections(allowed=True)
    wait_until(lambda: queue_depth("complaints.dlq") == 1, timeout=60, message="dead letter")
    failure = MessageFailure.objects.get(message_id=str(row.id))
    assert "ValueError: the probe always fails" in failure.reason
    assert OutboxMessage.objects.get(id=row.id).published_at is not None


def test_a_retry_no_delay_queue_takes_is_not_acknowledged_away(clean_queues, start_worker):
    worker = start_worker("repair_requests")  # declares the topology as it starts
    # The relay declares it too, when it connects: have it connected first.
    [warm_up] = committed_publish("probe.happened", {"key": "relay-connected"})
    wait_until(lambda: OutboxMessage.objects.get(id=warm_up.id).published_at, message="relay up")
    try:
        with broker_connection() as connection:
            channel = connection.channel()
            channel.queue_delete(DELAY_60)  # its one retry waits 60 s: routes nowhere now
            channel.close()
        committed_publish("probe.retried", {"key": "unroutable-retry"})
        wait_until(
            lambda: "could not schedule the retry" in worker.logs(),
            message="the retry publish came back",
        )
        worker.stop()
        # Handed back to its queue (or, after many tries, dead-lettered): never lost.
        assert queue_depth("repair_requests") + queue_depth("repair_requests.dlq") == 1
        assert "NO_ROUTE" in worker.logs()
    finally:
        topology_declare()
