"""Writes of the reporting app: fold domain events into report tables.

Safe against duplicates and disorder: counters are guarded per domain fact in
AppliedEvent (a re-published event with a new message id still counts once), each
event counts on the day it occurred (not when processed), and asset snapshots only move
forward in version.
"""

import logging
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from apps.assets import events as asset_events
from apps.complaints.events import COMPLAINT_FILED, COMPLAINT_UPDATED
from apps.repairs.events import REPAIR_REQUESTED, REPAIR_STATUS_CHANGED
from apps.reporting.models import AppliedEvent, AssetSnapshot, DailyPropertyStat, Metric
from apps.visitors.events import VISITOR_ARRIVED

logger = logging.getLogger(__name__)


class UnknownReportEventError(ValueError):
    """An event the reporting consumer does not know: permanent (dead-lettered)."""


REPAIR_CLOSING_STATUSES = {
    "resolved": Metric.REPAIRS_RESOLVED,
    "cancelled": Metric.REPAIRS_CANCELLED,
}
COMPLAINT_RESOLVED_STATUSES = frozenset({"resolved"})
# The events the asset snapshot consumer is subscribed to (celeryconfig; tested).
ASSET_EVENTS = frozenset(
    {asset_events.ASSET_CREATED, asset_events.ASSET_UPDATED, asset_events.ASSET_RETIRED}
)
ASSET_RETIRED = "retired"


def _occurred_at(envelope):
    value = datetime.fromisoformat(envelope["occurred_at"])
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.utc)
    return value


def _day(envelope):
    return timezone.localtime(_occurred_at(envelope)).date()


def _applied_event_record(source, source_id, key, event):
    """Record a domain fact; False when it was already applied."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AppliedEvent._meta.db_table} "
            "(source, source_id, key, event, applied_at) VALUES (%s, %s, %s, %s, now()) "
            "ON CONFLICT DO NOTHING RETURNING id",
            [source, str(source_id), key, event],
        )
        return cursor.fetchone() is not None


def daily_stat_increment(*, property_id, day, metric, category="", urgency="", by=1):
    """Upsert a counter row and add `by` to it atomically."""
    table = DailyPropertyStat._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "
            "(property_id, day, metric, category, urgency, count, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, now()) "
            "ON CONFLICT (property_id, day, metric, category, urgency) "
            f"DO UPDATE SET count = {table}.count + EXCLUDED.count, updated_at = now()",
            [int(property_id), day, metric, category or "", urgency or "", by],
        )


def _count_once(envelope, *, source, source_id, key, metric, category="", urgency=""):
    data = envelope["data"]
    with transaction.atomic():
        if not _applied_event_record(source, source_id, key, envelope["event"]):
            logger.info("%s %s %s already counted", source, source_id, key)
            return False
        daily_stat_increment(
            property_id=data["property_id"],
            day=_day(envelope),
            metric=metric,
            category=category,
            urgency=urgency,
        )
    return True


def _repair_requested(envelope):
    data = envelope["data"]
    return _count_once(
        envelope,
        source="repair",
        source_id=data["repair_id"],
        key="requested",
        metric=Metric.REPAIRS_OPENED,
        category=data.get("category") or "",
        urgency=data.get("urgency") or "",
    )


def _repair_status_changed(envelope):
    data = envelope["data"]
    metric = REPAIR_CLOSING_STATUSES.get(data["status"])
    if metric is None:
        return False
    return _count_once(
        envelope,
        source="repair",
        source_id=data["repair_id"],
        key=f"status:v{data['version']}",
        metric=metric,
        category=data.get("category") or "",
        urgency=data.get("urgency") or "",
    )


def _complaint_filed(envelope):
    data = envelope["data"]
    return _count_once(
        envelope,
        source="complaint",
        source_id=data["complaint_id"],
        key="filed",
        metric=Metric.COMPLAINTS_FILED,
        category=data.get("category") or "",
    )


def _complaint_updated(envelope):
    data = envelope["data"]
    if data.get("change") != "status" or data.get("status") not in COMPLAINT_RESOLVED_STATUSES:
        return False
    return _count_once(
        envelope,
        source="complaint",
        source_id=data["complaint_id"],
        key=f"status:v{data['version']}",
        metric=Metric.COMPLAINTS_RESOLVED,
        category=data.get("category") or "",
    )


def _visitor_arrived(envelope):
    data = envelope["data"]
    return _count_once(
        envelope,
        source="visitor",
        source_id=data["visitor_id"],
        key="arrived",
        metric=Metric.VISITOR_ARRIVALS,
    )


# The events the reporting consumer is subscribed to, and nothing else (celeryconfig;
# tests/messaging/test_topology_consistency.py).
EVENT_HANDLERS = {
    REPAIR_REQUESTED: _repair_requested,
    REPAIR_STATUS_CHANGED: _repair_status_changed,
    COMPLAINT_FILED: _complaint_filed,
    COMPLAINT_UPDATED: _complaint_updated,
    VISITOR_ARRIVED: _visitor_arrived,
}


def report_event_record(envelope):
    """Fold one domain event into the daily counters; True when something was counted.

    An event it is not subscribed to raises UnknownReportEventError.
    """
    event = envelope.get("event")
    handler = EVENT_HANDLERS.get(event)
    if handler is None:
        raise UnknownReportEventError(f"reporting does not know event {event!r}")
    return handler(envelope)


def asset_snapshot_record(envelope):
    """Upsert the asset's snapshot unless a newer (or the same) version is already stored.

    Returns True when the snapshot changed.
    """
    event = envelope.get("event")
    if event not in ASSET_EVENTS:
        raise UnknownReportEventError(f"asset reporting does not know event {event!r}")
    data = envelope["data"]
    status = (
        ASSET_RETIRED if event == asset_events.ASSET_RETIRED else (data.get("status") or "active")
    )
    table = AssetSnapshot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "
            "(asset_id, property_id, category, condition, cost, status, version, occurred_at, "
            "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now()) "
            "ON CONFLICT (asset_id) DO UPDATE SET property_id = EXCLUDED.property_id, "
            "category = EXCLUDED.category, condition = EXCLUDED.condition, "
            "cost = EXCLUDED.cost, status = EXCLUDED.status, version = EXCLUDED.version, "
            "occurred_at = EXCLUDED.occurred_at, updated_at = now() "
            f"WHERE {table}.version < EXCLUDED.version RETURNING id",
            [
                int(data["asset_id"]),
                int(data["property_id"]),
                data.get("category") or "",
                data.get("condition") or "",
                Decimal(str(data.get("cost") or "0")),
                status,
                int(data["version"]),
                _occurred_at(envelope),
            ],
        )
        return cursor.fetchone() is not None
