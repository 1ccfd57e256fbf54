"""The events the repairs app publishes: the only place it calls publish()."""

from dataclasses import dataclass
from datetime import datetime

from apps.messaging.contracts import Event, event_named
from apps.messaging.publisher import publish

REPAIR_REQUESTED = "repair.requested"
REPAIR_STATUS_CHANGED = "repair.status_changed"


@dataclass(frozen=True)
class RepairEvent(Event):
    repair_id: int
    property_id: int
    unit_id: int
    resident_id: int
    category: str
    urgency: str
    requested_at: datetime
    status: str
    version: int


RepairRequested = event_named("RepairRequested", RepairEvent, REPAIR_REQUESTED)


@dataclass(frozen=True)
class RepairStatusChanged(RepairEvent):
    NAME = REPAIR_STATUS_CHANGED
    from_status: str
    changed_by_id: int | None
    changed_at: datetime


def _fields(repair):
    return {
        "repair_id": repair.pk,
        "property_id": repair.property_id,
        "unit_id": repair.unit_id,
        "resident_id": repair.resident_id,
        "category": repair.category,
        "urgency": repair.urgency,
        "requested_at": repair.created_at,
        "version": repair.version,
    }


def repair_requested(repair):
    """Call inside the transaction that created the repair."""
    event = RepairRequested(**_fields(repair), status=repair.status)
    return publish(event, urgency=repair.urgency)


def repair_status_changed(repair, change):
    """Call inside the transaction that wrote the status change."""
    event = RepairStatusChanged(
        **_fields(repair),
        from_status=change.from_status,
        status=change.to_status,
        changed_by_id=change.changed_by_id,
        changed_at=change.changed_at,
    )
    return publish(event, urgency=repair.urgency)
