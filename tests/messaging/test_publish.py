"""`publish` writes the outbox in the caller's transaction and raises on bad input."""

import datetime

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from apps.messaging.correlation import (
    reset_correlation_id,
    reset_urgency,
    set_correlation_id,
    set_urgency,
)
from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import EventPayloadError, UnknownEventError, publish

pytestmark = pytest.mark.django_db


def test_one_row_per_subscriber_with_envelope():
    rows = publish("repair.requested", {"repair_id": 7, "at": timezone.now()})
    assert {r.task_name for r in rows} == {
        "maintenance.notify_repair_requested",
        "reporting.record_event",
    }
    stored = OutboxMessage.objects.get(task_name="reporting.record_event")
    [envelope] = stored.payload
    assert envelope["event"] == "repair.requested"
    assert envelope["data"]["repair_id"] == 7
    assert isinstance(envelope["data"]["at"], str)
    assert stored.queue == "reporting" and stored.published_at is None


def test_urgency_maps_to_a_priority_only_kept_on_priority_queues():
    publish("repair.requested", {"repair_id": 1}, urgency="urgent")
    by_task = {r.task_name: r for r in OutboxMessage.objects.all()}
    assert by_task["maintenance.notify_repair_requested"].priority == 9
    assert by_task["reporting.record_event"].priority is None
    [row] = publish("notification.email_batch_requested", {"notification_ids": ["n1"]})
    assert OutboxMessage.objects.get(id=row.id).priority == 5  # normal


def test_a_consumers_events_inherit_the_urgency_it_handles():
    token = set_urgency("urgent")
    try:
        publish("notification.email_batch_requested", {"notification_ids": ["n1"]})
    finally:
        reset_urgency(token)
    assert OutboxMessage.objects.get().priority == 9
    with pytest.raises(ValueError, match="unknown urgency"):
        publish("notification.email_batch_requested", {"notification_ids": ["n2"]}, urgency="panic")


def test_unknown_event_raises_and_writes_nothing():
    with pytest.raises(UnknownEventError):
        publish("repair.exploded", {})
    assert not OutboxMessage.objects.exists()


def test_non_json_payload_raises_and_writes_nothing():
    with pytest.raises(EventPayloadError):
        publish("repair.requested", {"repair": object()})
    assert not OutboxMessage.objects.exists()


def test_rolled_back_transaction_publishes_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        publish("repair.requested", {"repair_id": 1})
        raise RuntimeError("the request failed after publishing")
    assert not OutboxMessage.objects.exists()


def test_correlation_id_comes_from_the_context():
    token = set_correlation_id("req-123")
    try:
        rows = publish("visitor.arrived", {"visitor_id": 1})
    finally:
        reset_correlation_id(token)
    assert {r.correlation_id for r in rows} == {"req-123"}


def test_delayed_rows_keep_their_not_before():
    later = timezone.now() + datetime.timedelta(minutes=5)
    [row] = publish(
        "notification.email_batch_requested", {"notification_ids": ["x"]}, not_before=later
    )
    assert OutboxMessage.objects.get(id=row.id).not_before == later


def test_request_id_header_is_echoed_or_generated():
    client = Client()
    response = client.get("/api/v1/schema/", HTTP_X_REQUEST_ID="abc-42")
    assert response["X-Request-ID"] == "abc-42"
    generated = client.get("/api/v1/schema/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert (
        generated["X-Request-ID"] != "bad id with spaces" and len(generated["X-Request-ID"]) == 32
    )
