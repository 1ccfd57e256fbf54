"""Events the visitors app publishes (the only place it calls publish())."""

from dataclasses import dataclass
from datetime import datetime

from apps.messaging.contracts import Event, event_named
from apps.messaging.publisher import publish

VISITOR_EXPECTED = "visitor.expected"
VISITOR_ARRIVED = "visitor.arrived"
VISITOR_DEPARTED = "visitor.departed"


@dataclass(frozen=True)
class VisitorEvent(Event):
    visitor_id: int
    property_id: int
    unit_id: int
    host_id: int | None
    name: str
    status: str
    version: int
    arrived_at: datetime | None


VisitorExpected = event_named("VisitorExpected", VisitorEvent, VISITOR_EXPECTED)
VisitorArrived = event_named("VisitorArrived", VisitorEvent, VISITOR_ARRIVED)
VisitorDeparted = event_named("VisitorDeparted", VisitorEvent, VISITOR_DEPARTED)


def _fields(visitor):
    return {
        "visitor_id": visitor.id,
        "property_id": visitor.property_id,
        "unit_id": visitor.unit_id,
        "host_id": visitor.host_id,
        "name": visitor.name,
        "status": visitor.status,
        "version": visitor.version,
        "arrived_at": visitor.arrived_at,
    }


def visitor_expected(visitor):
    publish(VisitorExpected(**_fields(visitor)))


def visitor_arrived(visitor):
    publish(VisitorArrived(**_fields(visitor)))


def visitor_departed(visitor):
    publish(VisitorDeparted(**_fields(visitor)))
