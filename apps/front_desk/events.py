"""The events the front desk publishes: the only place it calls publish()."""

from dataclasses import dataclass
from datetime import datetime

from apps.messaging.contracts import Event
from apps.messaging.publisher import publish

PARCEL_ARRIVED = "parcel.arrived"
PARCEL_STATUS_CHANGED = "parcel.status_changed"


@dataclass(frozen=True)
class ParcelArrived(Event):
    NAME = PARCEL_ARRIVED
    parcel_id: int
    property_id: int
    unit_id: int
    resident_id: int
    carrier: str
    arrived_at: datetime
    status: str
    version: int


@dataclass(frozen=True)
class ParcelStatusChanged(ParcelArrived):
    NAME = PARCEL_STATUS_CHANGED
    from_status: str
    changed_by_id: int | None
    changed_at: datetime


def _fields(parcel):
    return {
        "parcel_id": parcel.pk,
        "property_id": parcel.property_id,
        "unit_id": parcel.unit_id,
        "resident_id": parcel.resident_id,
        "carrier": parcel.carrier,
        "arrived_at": parcel.created_at,
    }


def parcel_arrived(parcel):
    """Call inside the transaction that logged the parcel."""
    return publish(ParcelArrived(**_fields(parcel), status=parcel.status, version=1))


def parcel_status_changed(parcel, change):
    """Call inside the transaction that wrote the status change (picked up, returned)."""
    event = ParcelStatusChanged(
        **_fields(parcel),
        from_status=change.from_status,
        status=change.to_status,
        version=parcel.version,
        changed_by_id=change.changed_by_id,
        changed_at=change.changed_at,
    )
    return publish(event)
