"""The broker topology of celeryconfig.py, against the live RabbitMQ."""

import pytest
from celery.exceptions import QueueNotFound
from django.core.management import call_command

import celeryconfig
from apps.messaging.broker import broker_connection, queue_status
from apps.messaging.deadletters import dead_letters_list
from propmgmt.celery import app
from tests.conftest import queue_depth, wait_until
from tests.probe.models import ProbeEffect

pytestmark = pytest.mark.broker


def test_every_queue_exists_with_its_arguments(broker_vhost):
    status = {row["name"]: row for row in queue_status()}
    for name in celeryconfig.WORK_QUEUE_NAMES:
        work, dlq = status[name], status[f"{name}.dlq"]
        assert work["exists"] and work["durable"], name
        assert work["arguments"]["x-dead-letter-exchange"] == "propmgmt.dead_letter"
        assert work["arguments"]["x-dead-letter-routing-key"] == f"{name}.dlq"
        assert dlq["exists"] and dlq["durable"], f"{name}.dlq"
    if celeryconfig.QUORUM:
        for row in status.values():
            assert row["arguments"]["x-queue-type"] == "quorum", row["name"]
            assert "x-max-priority" not in row["arguments"], row["name"]
        for name in (*celeryconfig.WORK_QUEUE_NAMES, *celeryconfig.LANE_QUEUES):
            arguments = status[name]["arguments"]
            assert arguments["x-dead-letter-strategy"] == "at-least-once", name
            assert arguments["x-overflow"] == "reject-publish", name
            assert arguments["x-delivery-limit"] == celeryconfig.QUORUM_DELIVERY_LIMIT, name
        # An urgent lane dead-letters into its work queue's .dlq.
        lane = status["repair_requests.urgent"]["arguments"]
        assert lane["x-dead-letter-routing-key"] == "repair_requests.dlq"
        delay = status[celeryconfig.delay_queue_name(5)]["arguments"]
        assert delay["x-dead-letter-strategy"] == "at-least-once"
        assert delay["x-message-ttl"] == 5000
    else:
        assert status["repair_requests"]["arguments"]["x-max-priority"] == 9
        assert "x-max-priority" not in status["complaints"]["arguments"]
        assert "repair_requests.urgent" not in status


@pytest.mark.django_db  # status also counts the outbox's waiting and parked rows
def test_declare_is_idempotent_and_status_lists_every_queue(broker_vhost, capsys):
    call_command("broker", "declare")
    call_command("broker", "declare")
    call_command("broker", "status")
    out = capsys.readouterr().out
    for name in celeryconfig.WORK_QUEUE_NAMES:
        assert f"\n{name} " in out and f"\n{name}.dlq " in out


def test_task_sent_by_name_is_routed_and_run_by_a_worker(clean_queues, start_worker):
    start_worker("reporting")
    event = {
        "event": "probe.happened",
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "data": {"key": "k1"},
    }
    result = app.send_task("probe.record", args=[event], queue="reporting")
    effect = wait_until(lambda: ProbeEffect.objects.filter(key="k1").first(), message="effect")
    assert effect.message_id == result.id


def test_configured_route_sends_to_the_named_queue(clean_queues):
    event = {"event": "x", "occurred_at": "2026-01-01T00:00:00+00:00", "data": {}}
    app.send_task("notifications.deliver", args=[event])
    assert queue_depth("notifications") == 1
    assert queue_depth("reporting") == 0


def test_permanent_failure_lands_in_the_queue_dlq_with_death_record(clean_queues, start_worker):
    start_worker("complaints")
    event = {
        "event": "probe.happened",
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "data": {"key": "p"},
    }
    result = app.send_task("probe.fail_unless_fixed", args=[event], queue="complaints")
    wait_until(lambda: queue_depth("complaints.dlq") == 1, message="dead letter")
    [letter] = dead_letters_list("complaints")
    assert letter["message_id"] == result.id
    assert letter["queue"] == "complaints"
    assert letter["death_count"] == 1 and letter["first_death_at"]
    assert "ValueError" in letter["reason"]
    assert queue_depth("complaints") == 0


def test_undeclared_queue_is_an_error_not_a_new_queue(broker_vhost):
    with pytest.raises(QueueNotFound):
        app.send_task("probe.record", args=[{}], queue="no_such_queue")
    with pytest.raises(QueueNotFound):
        app.send_task("an.unrouted.task", args=[])
    with broker_connection() as connection:
        channel = connection.channel()
        with pytest.raises(Exception, match="NOT_FOUND"):
            channel.queue_declare(queue="no_such_queue", passive=True)
