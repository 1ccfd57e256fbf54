import datetime
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import celeryconfig
from apps.accounts.models import ApiToken
from apps.accounts.services import api_tokens_prune
from apps.messaging.models import DeliveryAttempt, MessageFailure, OutboxMessage, ProcessedMessage
from apps.messaging.services import messaging_records_prune
from apps.notifications.models import Notification, NotificationStatusChange, Status
from apps.notifications.services import notifications_prune
from propmgmt.celery import app
from tests.conftest import wait_until
from tests.factories import (
    ApiTokenFactory,
    DeliveryAttemptFactory,
    MessageFailureFactory,
    NotificationFactory,
    NotificationStatusChangeFactory,
    OutboxMessageFactory,
    ProcessedMessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def outbox_row(published_at):
    return OutboxMessageFactory(published_at=published_at)


def test_prune_keeps_unpublished_and_recent_rows():
    now = timezone.now()
    old = outbox_row(now - datetime.timedelta(days=8))
    recent = outbox_row(now - datetime.timedelta(days=1))
    waiting = outbox_row(None)
    OutboxMessage.objects.filter(id=waiting.id).update(created_at=now - datetime.timedelta(days=60))
    ledger_old = ProcessedMessageFactory(message_id="a")
    ProcessedMessage.objects.filter(id=ledger_old.id).update(
        processed_at=now - datetime.timedelta(days=31)
    )
    ProcessedMessageFactory(message_id="b")

    result = messaging_records_prune(now=now)

    assert result["outbox"] == 1 and result["ledger"] == 1
    assert set(OutboxMessage.objects.values_list("id", flat=True)) == {recent.id, waiting.id}
    assert not OutboxMessage.objects.filter(id=old.id).exists()
    assert list(ProcessedMessage.objects.values_list("message_id", flat=True)) == ["b"]


def days_ago(days):
    return timezone.now() - datetime.timedelta(days=days)


def aged(instance, **fields):
    """Set auto_now(_add) timestamps, which a create() cannot."""
    type(instance).objects.filter(pk=instance.pk).update(**fields)
    return instance


def ids(model):
    return set(model.objects.values_list("pk", flat=True))


def test_every_rule_deletes_only_what_is_past_its_retention():
    user = UserFactory()
    ledger = [
        aged(ProcessedMessageFactory(message_id=m), processed_at=days_ago(d))
        for m, d in (("old", 31), ("new", 29))
    ]
    attempts = [
        aged(DeliveryAttemptFactory(message_id=m), updated_at=days_ago(d))
        for m, d in (("old", 31), ("new", 29))
    ]
    failures = [
        aged(MessageFailureFactory(message_id=m), failed_at=days_ago(d))
        for m, d in (("old", 91), ("new", 89))
    ]

    def notification(status, age):
        made = NotificationFactory(channel="email", user=user, category="repair", status=status)
        change = NotificationStatusChangeFactory(notification=made)
        aged(change, at=days_ago(age))
        return aged(made, created_at=days_ago(age)), change

    sent_old, sent_old_change = notification(Status.SENT, 366)
    failed_old, _ = notification(Status.FAILED, 366)
    sent_mid, sent_mid_change = notification(Status.SENT, 91)  # history goes, it stays
    sent_new, sent_new_change = notification(Status.SENT, 89)
    unknown_old, unknown_change = notification(Status.UNKNOWN, 400)  # an operator's
    pending_old, pending_change = notification(Status.PENDING, 400)
    tokens = [ApiTokenFactory(user=user, expires_at=days_ago(d)) for d in (8, 6, -1)]

    result = {
        **messaging_records_prune(),
        **notifications_prune(),
        "api_tokens": api_tokens_prune(),
    }

    assert ids(ProcessedMessage) == {ledger[1].pk}
    assert ids(DeliveryAttempt) == {attempts[1].pk}
    assert ids(MessageFailure) == {failures[1].pk}
    assert ids(Notification) == {sent_mid.pk, sent_new.pk, unknown_old.pk, pending_old.pk}
    assert ids(NotificationStatusChange) == {
        sent_new_change.pk,
        unknown_change.pk,
        pending_change.pk,
    }
    assert ids(ApiToken) == {tokens[1].pk, tokens[2].pk}
    assert result == {
        "outbox": 0,
        "ledger": 1,
        "delivery_attempts": 1,
        "message_failures": 1,
        "notification_history": 3,
        "notifications": 2,
        "api_tokens": 1,
    }


def test_pruning_deletes_in_chunks_and_stops_at_its_deadline(settings):
    settings.PRUNE_CHUNK_ROWS = 2
    for i in range(5):
        aged(ProcessedMessageFactory(message_id=f"m{i}"), processed_at=days_ago(40))
    # A run whose time is up deletes nothing; the next one does it all, two at a time.
    assert messaging_records_prune(deadline=time.monotonic())["ledger"] == 0
    with CaptureQueriesContext(connection) as queries:
        assert messaging_records_prune()["ledger"] == 5
    deletes = [
        q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "messaging_processedmessage"')
    ]
    assert len(deletes) == 3 and all("LIMIT 2" in sql for sql in deletes), deletes
    assert not ProcessedMessage.objects.exists()


PRUNED_BY = [
    ("messaging_outboxmessage", "published_at"),
    ("messaging_processedmessage", "processed_at"),
    ("messaging_deliveryattempt", "updated_at"),
    ("messaging_messagefailure", "failed_at"),
    ("notifications_notificationstatuschange", "at"),
    ("notifications_notification", "created_at"),
    ("accounts_apitoken", "expires_at"),
]


@pytest.mark.parametrize(("table", "column"), PRUNED_BY)
def test_what_pruning_reads_is_indexed(table, column):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
            "WHERE i.indrelid = %s::regclass AND a.attname = %s",
            [table, column],
        )
        assert cursor.fetchone()[0] >= 1, f"no index leads with {table}.{column}"


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
