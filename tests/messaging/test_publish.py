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
from apps.notifications.events import EmailBatchRequested
from apps.repairs.events import RepairRequested
from apps.visitors.events import VisitorArrived

pytestmark = pytest.mark.django_db


def repair_requested(repair_id=7, **fields):
    return RepairRequested(
        **{
            "repair_id": repair_id,
            "property_id": 1,
            "unit_id": 2,
            "resident_id": 3,
            "category": "plumbing",
            "urgency": "normal",
            "requested_at": timezone.now(),
            "status": "submitted",
            "version": 1,
            **fields,
        }
    )


def email_batch(*ids):
    return EmailBatchRequested(notification_ids=list(ids))


def test_one_row_per_subscriber_with_envelope():
    rows = publish(repair_requested(7))
    assert {r.task_name for r in rows} == {
        "maintenance.notify_repair_requested",
        "reporting.record_event",
    }
    stored = OutboxMessage.objects.get(task_name="reporting.record_event")
    [envelope] = stored.payload
    assert envelope["event"] == "repair.requested" and envelope["version"] == 1
    assert envelope["data"]["repair_id"] == 7
    assert isinstance(envelope["data"]["requested_at"], str)
    assert stored.queue == "reporting" and stored.published_at is None


def test_urgency_maps_to_a_priority_only_kept_on_priority_queues():
    publish(repair_requested(1), urgency="urgent")
    by_task = {r.task_name: r for r in OutboxMessage.objects.all()}
    assert by_task["maintenance.notify_repair_requested"].priority == 9
    assert by_task["reporting.record_event"].priority is None
    [row] = publish(email_batch("n1"))
    assert OutboxMessage.objects.get(id=row.id).priority == 5  # normal


def test_a_consumers_events_inherit_the_urgency_it_handles():
    token = set_urgency("urgent")
    try:
        publish(email_batch("n1"))
    finally:
        reset_urgency(token)
    assert OutboxMessage.objects.get().priority == 9
    with pytest.raises(ValueError, match="unknown urgency"):
        publish(email_batch("n2"), urgency="panic")


def test_unknown_event_raises_and_writes_nothing():
    with pytest.raises(UnknownEventError):
        publish({"event": "repair.requested", "data": {}})  # a dict is no event
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"repair_id": "7"}, "repair_id"),
        ({"requested_at": object()}, "requested_at"),
        ({"resident_id": True}, "resident_id"),
        ({"category": None}, "category"),
    ],
)
def test_an_event_that_does_not_match_its_type_raises_naming_the_field(fields, field):
    with pytest.raises(EventPayloadError, match=f"field '{field}'"):
        publish(repair_requested(**fields))
    assert not OutboxMessage.objects.exists()


def test_rolled_back_transaction_publishes_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(repair_requested(1))
        raise RuntimeError("the request failed after publishing")
    assert not OutboxMessage.objects.exists()


def test_correlation_id_comes_from_the_context():
    token = set_correlation_id("req-123")
    try:
        rows = publish(
            VisitorArrived(
                visitor_id=1,
                property_id=1,
                unit_id=1,
                host_id=None,
                name="V",
                status="arrived",
                version=2,
                arrived_at=timezone.now(),
            )
        )
    finally:
        reset_correlation_id(token)
    assert {r.correlation_id for r in rows} == {"req-123"}


def test_delayed_rows_keep_their_not_before():
    later = timezone.now() + datetime.timedelta(minutes=5)
    [row] = publish(email_batch("x"), not_before=later)
    assert OutboxMessage.objects.get(id=row.id).not_before == later


def test_request_id_header_is_echoed_or_generated():
    client = Client()
    response = client.get("/api/v1/schema/", HTTP_X_REQUEST_ID="abc-42")
    assert response["X-Request-ID"] == "abc-42"
    generated = client.get("/api/v1/schema/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert (
        generated["X-Request-ID"] != "bad id with spaces" and len(generated["X-Request-ID"]) == 32
    )
