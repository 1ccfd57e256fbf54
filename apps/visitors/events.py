"""Events the visitors app publishes (the only place it calls publish())."""

from apps.messaging.publisher import publish


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
    publish("visitor.expected", visitor_payload(visitor))


def visitor_arrived(visitor):
    publish("visitor.arrived", visitor_payload(visitor))


def visitor_departed(visitor):
    publish("visitor.departed", visitor_payload(visitor))
