"""The events the amenities app publishes: the only place it calls publish()."""

from apps.messaging.publisher import publish

RESERVATION_BOOKED = "reservation.booked"
RESERVATION_STATUS_CHANGED = "reservation.status_changed"
RESERVATION_REMINDER_DUE = "reservation.reminder_due"
AMENITY_CLOSURE_ANNOUNCED = "amenity.closure_announced"


def _base(reservation):
    return {
        "reservation_id": reservation.pk,
        "amenity_id": reservation.amenity_id,
        "property_id": reservation.property_id,
        "resident_id": reservation.resident_id,
        "starts_at": reservation.starts_at.isoformat(),
        "ends_at": reservation.ends_at.isoformat(),
    }


def reservation_booked(reservation):
    """Call inside the transaction that created the reservation."""
    payload = {**_base(reservation), "status": reservation.status, "version": reservation.version}
    return publish(RESERVATION_BOOKED, payload)


def reservation_status_changed(reservation, change):
    """Call inside the transaction that wrote the status change."""
    payload = {
        **_base(reservation),
        "from_status": change.from_status,
        "status": change.to_status,
        "version": reservation.version,
        "changed_by_id": change.changed_by_id,
        "changed_at": change.changed_at.isoformat(),
    }
    return publish(RESERVATION_STATUS_CHANGED, payload)


def reminder_due(reservation, remind_at):
    """Held in the outbox until `remind_at` (the outbox's delayed delivery)."""
    return publish(RESERVATION_REMINDER_DUE, _base(reservation), not_before=remind_at)


def closure_announced(closure):
    payload = {
        "closure_id": closure.pk,
        "amenity_id": closure.amenity_id,
        "starts_on": closure.starts_on.isoformat(),
        "ends_on": closure.ends_on.isoformat(),
    }
    return publish(AMENITY_CLOSURE_ANNOUNCED, payload)
