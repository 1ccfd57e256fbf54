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


MOVE_OUT_REQUESTED = "move_out.requested"
MOVE_OUT_DECIDED = "move_out.decided"
MOVE_OUT_WITHDRAWN = "move_out.withdrawn"


@dataclass(frozen=True)
class MoveOutEvent(Event):
    move_out_id: int
    residency_id: int
    resident_id: int
    unit_id: int
    property_id: int
    end_date: date
    status: str  # requested; approved or rejected once decided; withdrawn
    version: int
    at: datetime


MoveOutRequested = event_named("MoveOutRequested", MoveOutEvent, MOVE_OUT_REQUESTED)
MoveOutWithdrawn = event_named("MoveOutWithdrawn", MoveOutEvent, MOVE_OUT_WITHDRAWN)


@dataclass(frozen=True)
class MoveOutDecided(MoveOutEvent):
    NAME = MOVE_OUT_DECIDED
    decided_by_id: int | None


def _move_out_fields(move_out, at):
    return {
        "move_out_id": move_out.pk,
        "residency_id": move_out.residency_id,
        "resident_id": move_out.resident_id,
        "unit_id": move_out.unit_id,
        "property_id": move_out.property_id,
        "end_date": move_out.end_date,
        "status": move_out.status,
        "version": move_out.version,
        "at": at,
    }


def move_out_requested(move_out):
    """Call inside the transaction that created the request."""
    return publish(MoveOutRequested(**_move_out_fields(move_out, move_out.created_at)))


def move_out_decided(move_out, change):
    """Call inside the transaction that approved or rejected the request (`change` is its
    history row)."""
    return publish(
        MoveOutDecided(
            **_move_out_fields(move_out, change.changed_at), decided_by_id=change.changed_by_id
        )
    )


def move_out_withdrawn(move_out, change):
    """Call inside the transaction that withdrew the request (`change` is its history
    row)."""
    return publish(MoveOutWithdrawn(**_move_out_fields(move_out, change.changed_at)))
