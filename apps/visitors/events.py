"""Events the visitors app publishes (the only place it calls publish())."""

from apps.messaging.publisher import publish

VISITOR_EXPECTED = "visitor.expected"
VISITOR_ARRIVED = "visitor.arrived"
VISITOR_DEPARTED = "visitor.departed"


def visitor_payload(visitor):
    return {
        "visitor_id": visitor.id,
        "property_id": visitor.property_id,
        "unit_id": visitor.unit_id,
        "host_id": visitor.host_id,
        "name": visitor.name,
        "status": visitor.status,
        "version": visitor.version,
        "arrived_at": visitor.arrived_at.isoformat() if visitor.arrived_at else None,
    }


def visitor_expected(visitor):
    publish(VISITOR_EXPECTED, visitor_payload(visitor))


def visitor_arrived(visitor):
    publish(VISITOR_ARRIVED, visitor_payload(visitor))


def visitor_departed(visitor):
    publish(VISITOR_DEPARTED, visitor_payload(visitor))
