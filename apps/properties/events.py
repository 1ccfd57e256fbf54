"""The events the properties app publishes: the only place it calls publish()."""

from dataclasses import dataclass
from datetime import date, datetime

from apps.messaging.contracts import Event, event_named
from apps.messaging.publisher import publish

RESIDENCY_STARTED = "residency.started"
RESIDENCY_ENDED = "residency.ended"


@dataclass(frozen=True)
class ResidencyMoved(Event):
    residency_id: int
    resident_id: int
    unit_id: int
    property_id: int
    start_date: date
    end_date: date | None
    at: datetime


ResidencyStarted = event_named("ResidencyStarted", ResidencyMoved, RESIDENCY_STARTED)
ResidencyEnded = event_named("ResidencyEnded", ResidencyMoved, RESIDENCY_ENDED)


def _fields(residency, at):
    return {
        "residency_id": residency.pk,
        "resident_id": residency.resident_id,
        "unit_id": residency.unit_id,
        "property_id": residency.unit.property_id,
        "start_date": residency.start_date,
        "end_date": residency.end_date,
        "at": at,
    }


def residency_started(residency):
    """Call inside the transaction that marked the move-in (`started_at`)."""
    return publish(ResidencyStarted(**_fields(residency, residency.started_at)))


def residency_ended(residency):
    """Call inside the transaction that marked the move-out (`ended_at`)."""
    return publish(ResidencyEnded(**_fields(residency, residency.ended_at)))
