"""The events the amenities app publishes: the only place it calls publish()."""

from dataclasses import dataclass
from datetime import date, datetime

from apps.messaging.contracts import Event, event_named
from apps.messaging.publisher import publish

RESERVATION_BOOKED = "reservation.booked"
RESERVATION_STATUS_CHANGED = "reservation.status_changed"
RESERVATION_REMINDER_DUE = "reservation.reminder_due"
AMENITY_CLOSURE_ANNOUNCED = "amenity.closure_announced"


@dataclass(frozen=True)
class ReservationEvent(Event):
    reservation_id: int
    amenity_id: int
    property_id: int
    resident_id: int
    starts_at: datetime
    ends_at: datetime


ReservationReminderDue = event_named(
    "ReservationReminderDue", ReservationEvent, RESERVATION_REMINDER_DUE
)


@dataclass(frozen=True)
class ReservationBooked(ReservationEvent):
    NAME = RESERVATION_BOOKED
    status: str
    version: int


@dataclass(frozen=True)
class ReservationStatusChanged(ReservationBooked):
    NAME = RESERVATION_STATUS_CHANGED
    from_status: str
    changed_by_id: int | None
    changed_at: datetime


@dataclass(frozen=True)
class AmenityClosureAnnounced(Event):
    NAME = AMENITY_CLOSURE_ANNOUNCED
    closure_id: int
    amenity_id: int
    starts_on: date
    ends_on: date


def _fields(reservation):
    return {
        "reservation_id": reservation.pk,
        "amenity_id": reservation.amenity_id,
        "property_id": reservation.property_id,
        "resident_id": reservation.resident_id,
        "starts_at": reservation.starts_at,
        "ends_at": reservation.ends_at,
    }


def reservation_booked(reservation):
    """Call inside the transaction that created the reservation."""
    event = ReservationBooked(
        **_fields(reservation), status=reservation.status, version=reservation.version
    )
    return publish(event)


def reservation_status_changed(reservation, change):
    """Call inside the transaction that wrote the status change."""
    event = ReservationStatusChanged(
        **_fields(reservation),
        from_status=change.from_status,
        status=change.to_status,
        version=reservation.version,
        changed_by_id=change.changed_by_id,
        changed_at=change.changed_at,
    )
    return publish(event)


def reminder_due(reservation, remind_at):
    """Held in the outbox until `remind_at` (the outbox's delayed delivery)."""
    return publish(ReservationReminderDue(**_fields(reservation)), not_before=remind_at)


def closure_announced(closure):
    event = AmenityClosureAnnounced(
        closure_id=closure.pk,
        amenity_id=closure.amenity_id,
        starts_on=closure.starts_on,
        ends_on=closure.ends_on,
    )
    return publish(event)
