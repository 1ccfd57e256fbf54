"""The events the front desk publishes: the only place it calls publish()."""

from apps.messaging.publisher import publish

PARCEL_ARRIVED = "parcel.arrived"
PARCEL_STATUS_CHANGED = "parcel.status_changed"


def _base(parcel):
    return {
        "parcel_id": parcel.pk,
        "property_id": parcel.property_id,
        "unit_id": parcel.unit_id,
        "resident_id": parcel.resident_id,
        "carrier": parcel.carrier,
        "arrived_at": parcel.created_at.isoformat(),
    }


def parcel_arrived(parcel):
    """Call inside the transaction that logged the parcel."""
    return publish(PARCEL_ARRIVED, {**_base(parcel), "status": parcel.status, "version": 1})


def parcel_status_changed(parcel, change):
    """Call inside the transaction that wrote the status change (picked up, returned)."""
    payload = {
        **_base(parcel),
        "from_status": change.from_status,
        "status": change.to_status,
        "version": parcel.version,
        "changed_by_id": change.changed_by_id,
        "changed_at": change.changed_at.isoformat(),
    }
    return publish(PARCEL_STATUS_CHANGED, payload)
