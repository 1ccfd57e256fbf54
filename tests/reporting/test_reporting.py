"""Report tables stay right when events arrive twice, late or out of order."""

import datetime
from decimal import Decimal

import pytest

from apps.messaging.contracts import event_decode
from apps.reporting.models import DailyPropertyStat
from apps.reporting.selectors import asset_report
from apps.reporting.services import (
    UnknownReportEventError,
    asset_snapshot_record,
    report_event_record,
)

pytestmark = pytest.mark.django_db

DAY = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)


def envelope(event, when=DAY, **data):
    """The typed event a consumer receives for this message."""
    return event_decode({"event": event, "occurred_at": when.isoformat(), "data": data})


def count(metric, **filters):
    row = DailyPropertyStat.objects.filter(metric=metric, **filters).first()
    return row.count if row else 0


def repair(event, version, status, **extra):
    return envelope(
        event,
        repair_id=7,
        property_id=1,
        unit_id=3,
        resident_id=4,
        category="plumbing",
        urgency="urgent",
        status=status,
        version=version,
        requested_at=DAY.isoformat(),
        **extra,
    )


def test_repair_events_count_once_by_day_category_and_urgency():
    requested = repair("repair.requested", 1, "submitted")
    resolved = repair(
        "repair.status_changed",
        5,
        "resolved",
        from_status="in_progress",
        changed_by_id=None,
        changed_at=DAY.isoformat(),
    )
    # Out of order and twice each (a replay or re-publish has a new message id).
    for event in (resolved, requested, resolved, requested):
        report_event_record(event)
    assert count("repairs_opened", property_id=1, day=DAY.date(), urgency="urgent") == 1
    assert count("repairs_resolved", category="plumbing") == 1
    assert count("repairs_cancelled") == 0


def test_the_day_is_when_it_happened_not_when_it_was_processed():
    late = envelope(
        "visitor.arrived",
        when=DAY - datetime.timedelta(days=3),
        visitor_id=1,
        property_id=2,
        unit_id=1,
        host_id=1,
        name="x",
        status="arrived",
        version=2,
        arrived_at=None,
    )
    report_event_record(late)
    assert count("visitor_arrivals", property_id=2, day=(DAY - datetime.timedelta(days=3)).date())


def test_events_reporting_is_not_subscribed_to_are_refused():
    with pytest.raises(UnknownReportEventError):
        report_event_record(envelope("user.registered", user_id=1))


def asset(version, condition, event="asset.updated", cost="100.00"):
    return envelope(
        event,
        asset_id=9,
        property_id=1,
        category="lift",
        condition=condition,
        cost=cost,
        status="active",
        warranty_end=None,
        version=version,
    )


def test_asset_snapshot_keeps_the_newest_version_whatever_the_order():
    assert asset_snapshot_record(asset(3, "poor", cost="300.00"))
    assert not asset_snapshot_record(asset(2, "fair"))  # late, older: ignored
    assert not asset_snapshot_record(asset(3, "poor", cost="300.00"))  # duplicate
    [row] = asset_report(property_ids=[1])
    assert (row["condition"], row["assets"], row["total_cost"]) == ("poor", 1, Decimal("300.00"))
    assert asset_snapshot_record(asset(4, "poor", event="asset.retired"))
    assert list(asset_report(property_ids=[1])) == []


def test_report_api_is_for_managers_and_admins_scoped_to_their_properties(api, world):
    a, b = world.a.property.id, world.b.property.id
    for property_id in (a, b):
        report_event_record(
            envelope(
                "visitor.arrived",
                visitor_id=property_id,
                property_id=property_id,
                unit_id=1,
                host_id=None,
                name="V",
                status="arrived",
                version=2,
                arrived_at=None,
            )
        )
        asset_snapshot_record(
            envelope(
                "asset.created",
                asset_id=property_id,
                property_id=property_id,
                category="lift",
                condition="good",
                cost="10.00",
                status="active",
                warranty_end=None,
                version=1,
            )
        )
    manager = api(world.user("manager"))
    daily = manager.get("/api/v1/reports/daily/").json()["results"]
    assert [(r["property_id"], r["metric"], r["count"]) for r in daily] == [
        (a, "visitor_arrivals", 1)
    ]
    assert manager.get("/api/v1/reports/daily/", {"property": b}).json()["results"] == []
    assets = manager.get("/api/v1/reports/assets/").json()
    assert [(r["property_id"], r["assets"], r["total_cost"]) for r in assets] == [(a, 1, "10.00")]
    assert len(api(world.admin).get("/api/v1/reports/assets/").json()) == 2
    for role in ("resident", "maintenance", "security", "customer_service"):
        assert api(world.user(role)).get("/api/v1/reports/daily/").status_code == 403
