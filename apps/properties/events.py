"""The events the properties app publishes: the only place it calls publish()."""

from apps.messaging.publisher import publish

RESIDENCY_STARTED = "residency.started"
RESIDENCY_ENDED = "residency.ended"


def _payload(residency, at):
    return {
        "residency_id": residency.pk,
        "resident_id": residency.resident_id,
        "unit_id": residency.unit_id,
        "property_id": residency.unit.property_id,
        "start_date": residency.start_date.isoformat(),
        "end_date": residency.end_date.isoformat() if residency.end_date else None,
        "at": at.isoformat(),
    }


def residency_started(residency):
    """Call inside the transaction that marked the move-in (`started_at`)."""
    return publish(RESIDENCY_STARTED, _payload(residency, residency.started_at))


def residency_ended(residency):
    """Call inside the transaction that marked the move-out (`ended_at`)."""
    return publish(RESIDENCY_ENDED, _payload(residency, residency.ended_at))
