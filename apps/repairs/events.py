"""The events the repairs app publishes: the only place it calls publish()."""

from apps.messaging.publisher import publish

REPAIR_REQUESTED = "repair.requested"
REPAIR_STATUS_CHANGED = "repair.status_changed"


def _base(repair):
    return {
        "repair_id": repair.pk,
        "property_id": repair.property_id,
        "unit_id": repair.unit_id,
        "resident_id": repair.resident_id,
        "category": repair.category,
        "urgency": repair.urgency,
        "requested_at": repair.created_at.isoformat(),
    }


def repair_requested(repair):
    """Call inside the transaction that created the repair."""
    payload = {**_base(repair), "status": repair.status, "version": repair.version}
    return publish(REPAIR_REQUESTED, payload, urgency=repair.urgency)


def repair_status_changed(repair, change):
    """Call inside the transaction that wrote the status change."""
    payload = {
        **_base(repair),
        "from_status": change.from_status,
        "status": change.to_status,
        "version": repair.version,
        "changed_by_id": change.changed_by_id,
        "changed_at": change.changed_at.isoformat(),
    }
    return publish(REPAIR_STATUS_CHANGED, payload, urgency=repair.urgency)
