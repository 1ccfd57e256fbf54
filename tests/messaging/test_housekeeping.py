import datetime

import pytest
from django.utils import timezone

import celeryconfig
from apps.messaging.models import OutboxMessage, ProcessedMessage
from apps.messaging.services import messaging_records_prune
from propmgmt.celery import app
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db


def outbox_row(published_at):
    return OutboxMessage.objects.create(
        event="e", task_name="t", queue="reporting", payload=[], correlation_id="c",
        published_at=published_at,
    )  # fmt: skip


def test_prune_keeps_unpublished_and_recent_rows():
    now = timezone.now()
    old = outbox_row(now - datetime.timedelta(days=8))
    recent = outbox_row(now - datetime.timedelta(days=1))
    waiting = outbox_row(None)
    OutboxMessage.objects.filter(id=waiting.id).update(created_at=now - datetime.timedelta(days=60))
    ledger_old = ProcessedMessage.objects.create(message_id="a", consumer="c")
    ProcessedMessage.objects.filter(id=ledger_old.id).update(
        processed_at=now - datetime.timedelta(days=31)
    )
    ProcessedMessage.objects.create(message_id="b", consumer="c")

    result = messaging_records_prune(now=now)

    assert result["outbox"] == 1 and result["ledger"] == 1
    assert set(OutboxMessage.objects.values_list("id", flat=True)) == {recent.id, waiting.id}
    assert not OutboxMessage.objects.filter(id=old.id).exists()
    assert list(ProcessedMessage.objects.values_list("message_id", flat=True)) == ["b"]


def test_every_beat_job_is_routed_to_a_declared_queue():
    for entry in celeryconfig.beat_schedule.values():
        assert celeryconfig.TASK_QUEUES[entry["task"]] in celeryconfig.WORK_QUEUE_NAMES


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_beat_job_runs_on_a_real_worker(clean_queues, start_worker):
    old = outbox_row(timezone.now() - datetime.timedelta(days=30))
    start_worker("reporting")
    app.send_task("housekeeping.prune_messaging_records")
    wait_until(lambda: not OutboxMessage.objects.filter(id=old.id).exists(), message="pruned")
