"""The delivery guarantees, end to end: real PostgreSQL, RabbitMQ and worker processes."""

import datetime
import time
import uuid

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from kombu import Producer

import celeryconfig
from apps.messaging.broker import broker_connection
from apps.messaging.correlation import reset_correlation_id, set_correlation_id
from apps.messaging.deadletters import dead_letter_replay, dead_letters_list
from apps.messaging.models import (
    DeadLetterReplay,
    MessageFailure,
    OutboxMessage,
    ProcessedMessage,
)
from apps.messaging.publisher import ConfirmingPublisher, outbox_publish_due, publish
from propmgmt.celery import app
from tests.conftest import queue_depth, wait_until
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect, ProbeSwitch

pytestmark = pytest.mark.broker


def committed_publish(event, data, **kwargs):
    with transaction.atomic():
        return publish(probe_event(event, data), **kwargs)


def effects(key):
    return ProbeEffect.objects.filter(key=key).count()


def test_published_after_commit_and_processed_with_correlation_id(clean_queues, start_worker):
    worker = start_worker("reporting")
    token = set_correlation_id("corr-e2e-1")
    try:
        [row] = committed_publish("probe.happened", {"key": "fast"})
    finally:
        reset_correlation_id(token)
    effect = wait_until(lambda: ProbeEffect.objects.filter(key="fast").first())
    assert effect.message_id == str(row.id)
    assert effect.correlation_id == "corr-e2e-1"
    wait_until(lambda: "[corr-e2e-1] tests.probe.tasks: probe effect fast" in worker.logs())


@pytest.mark.slow
def test_worker_killed_mid_task_completes_once_after_restart(clean_queues, start_worker):
    first = start_worker("reporting")
    [row] = committed_publish("probe.slow", {"key": "kill", "seconds": 2})
    # The worker holds the message unacked: none ready in the queue.
    wait_until(lambda: queue_depth("reporting") == 0 and "probe.slow_record" in first.logs())
    time.sleep(0.5)
    first.kill()
    wait_until(lambda: queue_depth("reporting") == 1, message="message back in the queue")
    assert effects("kill") == 0
    start_worker("reporting")
    wait_until(lambda: effects("kill") == 1, message="task completed by the new worker")
    time.sleep(1)
    assert effects("kill") == 1
    assert ProcessedMessage.objects.filter(message_id=str(row.id)).count() == 1


def test_broker_down_at_commit_row_waits_then_relay_publishes_once(clean_queues, start_worker):
    [row] = committed_publish("probe.happened", {"key": "outage"})
    with (
        override_settings(CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:1//"),
        pytest.raises(OSError),
    ):
        outbox_publish_due()  # the relay's sweep cannot publish, and the row waits
    waiting = OutboxMessage.objects.get(id=row.id)
    assert waiting.published_at is None
    assert waiting.publish_attempts == 1 and waiting.last_error
    start_worker("reporting")  # and a relay, with the broker reachable again
    wait_until(lambda: effects("outage") == 1)
    assert OutboxMessage.objects.get(id=row.id).publish_attempts == 2
    time.sleep(1)
    assert effects("outage") == 1


def test_permanent_error_dead_letters_with_reason_and_replay_processes_once(
    clean_queues, start_worker
):
    start_worker("complaints")
    [row] = committed_publish("probe.breakable", {"key": "broken"})
    wait_until(lambda: queue_depth("complaints.dlq") == 1, message="dead letter")
    [letter] = dead_letters_list("complaints")
    assert letter["message_id"] == str(row.id)
    assert "ValueError" in letter["reason"] and "broken until" in letter["reason"]
    assert letter["task"] == "probe.fail_unless_fixed"
    assert effects("broken") == 0

    ProbeSwitch.objects.create(name="fixed", on=True)
    assert dead_letter_replay("complaints", str(row.id), via="test") == [str(row.id)]
    wait_until(lambda: effects("broken") == 1, message="replayed message processed")
    assert queue_depth("complaints.dlq") == 0
    assert DeadLetterReplay.objects.get(message_id=str(row.id)).action == "replay"
    # Replaying again finds nothing; the effect stays single.
    assert dead_letters_list("complaints") == []
    time.sleep(0.5)
    assert effects("broken") == 1


def test_same_message_delivered_twice_has_one_effect(clean_queues, start_worker):
    [row] = committed_publish("probe.happened", {"key": "twice"})
    publisher = ConfirmingPublisher(broker_connection().as_uri(include_password=True), timeout=5)
    assert publisher.publish([row]).confirmed == {row.id}
    assert publisher.publish([row]).confirmed == {row.id}
    publisher.reset()
    worker = start_worker("reporting", relay=False)  # the two publishes above, no third
    wait_until(lambda: f"duplicate message {row.id}" in worker.logs(), message="duplicate")
    assert effects("twice") == 1
    assert ProcessedMessage.objects.filter(message_id=str(row.id)).count() == 1


def test_transient_error_retries_then_dead_letters(clean_queues, start_worker):
    start_worker("notifications")
    [row] = committed_publish("probe.flaky", {"key": "flaky"})
    wait_until(lambda: queue_depth("notifications.dlq") == 1, timeout=40, message="dead letter")
    failure = MessageFailure.objects.get(message_id=str(row.id))
    assert failure.attempts == 3  # the first try and max_retries=2 retries
    assert "retries exhausted" in failure.reason and "downstream unavailable" in failure.reason


def _raw_publish(queue, body, content_type, headers):
    with broker_connection(confirm_publish=True) as connection:
        Producer(connection.default_channel).publish(
            body,
            exchange=celeryconfig.WORK_EXCHANGE.name,
            routing_key=queue,
            content_type=content_type,
            content_encoding="utf-8",
            headers=headers,
            delivery_mode=2,
        )


def test_undecodable_and_disallowed_messages_dead_letter_and_worker_lives_on(
    clean_queues, start_worker
):
    worker = start_worker("reporting")
    bad_json_id, pickle_id = str(uuid.uuid4()), str(uuid.uuid4())
    _raw_publish(
        "reporting", b"{not json", "application/json", {"task": "probe.record", "id": bad_json_id}
    )
    _raw_publish(
        "reporting",
        b"\x80\x04N.",
        "application/x-python-serialize",
        {"task": "probe.record", "id": pickle_id},
    )
    wait_until(lambda: queue_depth("reporting.dlq") == 2, message="both dead-lettered")
    letters = {letter["message_id"]: letter for letter in dead_letters_list("reporting")}
    assert set(letters) == {bad_json_id, pickle_id}
    assert "not accepted" in letters[pickle_id]["reason"]
    assert worker.popen.poll() is None
    committed_publish("probe.happened", {"key": "after-bad"})
    wait_until(lambda: effects("after-bad") == 1, message="worker still consuming")


@pytest.mark.slow
def test_message_that_kills_its_worker_is_dead_lettered_after_bounded_redeliveries(
    clean_queues, start_worker
):
    worker = start_worker("visitor_management", env={"MESSAGE_MAX_REDELIVERIES": "2"})
    [row] = committed_publish("probe.poison", {"key": "poison"})
    wait_until(lambda: queue_depth("visitor_management.dlq") == 1, timeout=60)
    failure = MessageFailure.objects.get(message_id=str(row.id))
    assert "redelivered 3 times" in failure.reason
    assert worker.logs().count("WorkerLostError") >= 3
    # The worker lives on and its pool keeps serving other messages.
    assert worker.popen.poll() is None
    event = {
        "event": "probe.happened",
        "occurred_at": timezone.now().isoformat(),
        "data": {"key": "ok"},
    }
    app.send_task("probe.record", args=[event], queue="visitor_management")
    wait_until(lambda: effects("ok") == 1, message="next message processed")


def test_urgent_repair_jumps_a_backlog(clean_queues, start_worker):
    for i in range(50):
        committed_publish(
            "probe.repair", {"key": "repair", "label": f"normal-{i}"}, urgency="normal"
        )
    committed_publish("probe.repair", {"key": "repair", "label": "urgent"}, urgency="urgent")
    assert outbox_publish_due() == 51
    # Classic queues: all in repair_requests, by priority; quorum: the urgent one in its lane.
    lane = celeryconfig.routing_key_for("repair_requests", celeryconfig.URGENCY_PRIORITY["urgent"])
    assert sum(queue_depth(queue) for queue in {"repair_requests", lane}) == 51
    start_worker("repair_requests")
    wait_until(lambda: effects("repair") == 51, timeout=60, message="backlog processed")
    first_two = list(
        ProbeEffect.objects.filter(key="repair").values_list("priority", flat=True)[:2]
    )
    assert "urgent" in first_two


def test_urgent_repair_published_behind_a_running_backlog_runs_next(clean_queues, start_worker):
    # A worker busy with a backlog of 30 slow repairs (0.2 s each) when the urgent one
    # arrives: it runs after the repair in hand (and, with classic queues, the one
    # prefetched beside it), never after the backlog.
    with transaction.atomic():
        for i in range(30):
            publish(
                probe_event("probe.slow_repair", {"key": "busy", "label": f"normal-{i}"}),
                urgency="normal",
            )
    assert outbox_publish_due() == 30
    start_worker("repair_requests", relay=False)  # published by hand, at once
    wait_until(lambda: effects("busy") >= 5, timeout=30, message="backlog draining")
    handled_before = effects("busy")
    committed_publish("probe.slow_repair", {"key": "busy", "label": "urgent"}, urgency="urgent")
    assert outbox_publish_due() == 1
    wait_until(
        lambda: ProbeEffect.objects.filter(key="busy", priority="urgent").exists(),
        timeout=30,
        message="urgent repair handled",
    )
    order = list(ProbeEffect.objects.filter(key="busy").values_list("priority", flat=True))
    overtaken_by = order.index("urgent") - handled_before
    print(f"{celeryconfig.BROKER_QUEUE_TYPE}: urgent handled after {overtaken_by} more repairs")
    assert overtaken_by <= 2, order


def test_delayed_delivery_waits_for_not_before(clean_queues, start_worker, start_relay):
    start_worker("reporting")
    start_relay()
    not_before = timezone.now() + datetime.timedelta(seconds=3)
    committed_publish("probe.happened", {"key": "later"}, not_before=not_before)
    time.sleep(2)
    assert effects("later") == 0
    effect = wait_until(lambda: ProbeEffect.objects.filter(key="later").first(), timeout=10)
    assert not_before <= effect.created_at <= not_before + datetime.timedelta(seconds=5)


def test_two_relays_publish_each_row_once(clean_queues, start_relay):
    for i in range(300):
        committed_publish("probe.happened", {"key": f"r{i}"})
    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 300
    start_relay(OUTBOX_RELAY_BATCH="20")
    start_relay(OUTBOX_RELAY_BATCH="20")
    wait_until(
        lambda: not OutboxMessage.objects.filter(published_at__isnull=True).exists(), timeout=30
    )
    time.sleep(0.5)
    assert queue_depth("reporting") == 300
