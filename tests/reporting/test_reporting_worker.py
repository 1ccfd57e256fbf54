"""The reporting consumers on real workers: re-published events count once, asset
events out of order keep the newest state, unknown events dead-letter."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from apps.messaging.models import ProcessedMessage
from apps.messaging.publisher import publish
from apps.reporting.models import AssetSnapshot, DailyPropertyStat
from propmgmt.celery import app
from tests.conftest import queue_depth, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

REPAIR = {
    "repair_id": 11, "property_id": 5, "unit_id": 1, "resident_id": 1,
    "category": "electrical", "urgency": "normal", "status": "submitted", "version": 1,
}  # fmt: skip


def processed(consumer):
    return ProcessedMessage.objects.filter(consumer=consumer).count()


def asset(version, condition):
    return {"asset_id": 21, "property_id": 5, "category": "boiler", "condition": condition,
            "cost": "1500.50", "status": "active", "version": version}  # fmt: skip


def test_reporting_worker_counts_once_and_keeps_newest_asset(clean_queues, start_worker):
    start_worker("reporting", "asset_management")
    with transaction.atomic():
        publish("repair.requested", REPAIR)
        publish("asset.updated", asset(3, "poor"))
    with transaction.atomic():
        publish("repair.requested", REPAIR)  # re-published: a new message id
        publish("asset.updated", asset(2, "good"))  # late and older
        publish("visitor.expected", {"visitor_id": 1, "property_id": 5})  # not subscribed
    wait_until(
        lambda: (
            processed("reporting.record_event") == 2
            and processed("reporting.record_asset_event") == 2
        ),
        message="every message processed",
    )
    [row] = DailyPropertyStat.objects.filter(property_id=5)
    assert (row.metric, row.category, row.urgency, row.count) == (
        "repairs_opened", "electrical", "normal", 1,
    )  # fmt: skip
    assert row.day == timezone.localdate()  # the occurred_at date
    snapshot = AssetSnapshot.objects.get(asset_id=21)
    assert (snapshot.version, snapshot.condition, snapshot.cost) == (3, "poor", Decimal("1500.50"))
    assert queue_depth("reporting.dlq") == 0 and queue_depth("asset_management.dlq") == 0


def test_unknown_event_is_dead_lettered(clean_queues, start_worker):
    start_worker("reporting")
    envelope = {"event": "repair.exploded", "occurred_at": "2026-11-20T10:00:00+00:00",
                "data": {"repair_id": 1}}  # fmt: skip
    app.send_task("reporting.record_event", args=[envelope])
    wait_until(lambda: queue_depth("reporting.dlq") == 1, message="dead letter")
