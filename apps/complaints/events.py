"""The events the complaints app publishes: the only place it calls publish()."""

from apps.messaging.publisher import publish

COMPLAINT_FILED = "complaint.filed"
COMPLAINT_UPDATED = "complaint.updated"
COMPLAINT_RATED = "complaint.rated"
CHANGE_REPLY = "reply"
CHANGE_STATUS = "status"


def _base(complaint):
    return {
        "complaint_id": complaint.pk,
        "property_id": complaint.property_id,
        "unit_id": complaint.unit_id,
        "resident_id": complaint.resident_id,
        "category": complaint.category,
    }


def complaint_filed(complaint):
    """Call inside the transaction that created the complaint."""
    payload = {**_base(complaint), "status": complaint.status, "version": complaint.version}
    return publish(COMPLAINT_FILED, payload)


def complaint_updated(complaint, *, change, from_status, comment=None):
    """Call inside the transaction that added the reply or changed the status."""
    payload = {
        **_base(complaint),
        "change": change,
        "from_status": from_status,
        "status": complaint.status,
        "comment_id": comment.pk if comment is not None else None,
        "version": complaint.version,
    }
    return publish(COMPLAINT_UPDATED, payload)


def complaint_rated(complaint):
    """Call inside the transaction that stored the resident's rating."""
    payload = {
        **_base(complaint),
        "rating": complaint.rating,
        "rated_at": complaint.rated_at.isoformat(),
        "version": complaint.version,
    }
    return publish(COMPLAINT_RATED, payload)
