"""The events the complaints app publishes: the only place it calls publish()."""

from dataclasses import dataclass
from datetime import datetime

from apps.messaging.contracts import Event
from apps.messaging.publisher import publish

COMPLAINT_FILED = "complaint.filed"
COMPLAINT_UPDATED = "complaint.updated"
COMPLAINT_RATED = "complaint.rated"
CHANGE_REPLY = "reply"
CHANGE_STATUS = "status"


@dataclass(frozen=True)
class ComplaintEvent(Event):
    complaint_id: int
    property_id: int
    unit_id: int
    resident_id: int
    category: str
    version: int


@dataclass(frozen=True)
class ComplaintFiled(ComplaintEvent):
    NAME = COMPLAINT_FILED
    status: str


@dataclass(frozen=True)
class ComplaintUpdated(ComplaintEvent):
    NAME = COMPLAINT_UPDATED
    change: str  # CHANGE_REPLY or CHANGE_STATUS
    from_status: str
    status: str
    comment_id: int | None


@dataclass(frozen=True)
class ComplaintRated(ComplaintEvent):
    NAME = COMPLAINT_RATED
    rating: int
    rated_at: datetime


def _fields(complaint):
    return {
        "complaint_id": complaint.pk,
        "property_id": complaint.property_id,
        "unit_id": complaint.unit_id,
        "resident_id": complaint.resident_id,
        "category": complaint.category,
        "version": complaint.version,
    }


def complaint_filed(complaint):
    """Call inside the transaction that created the complaint."""
    return publish(ComplaintFiled(**_fields(complaint), status=complaint.status))


def complaint_updated(complaint, *, change, from_status, comment=None):
    """Call inside the transaction that added the reply or changed the status."""
    event = ComplaintUpdated(
        **_fields(complaint),
        change=change,
        from_status=from_status,
        status=complaint.status,
        comment_id=comment.pk if comment is not None else None,
    )
    return publish(event)


def complaint_rated(complaint):
    """Call inside the transaction that stored the resident's rating."""
    event = ComplaintRated(
        **_fields(complaint), rating=complaint.rating, rated_at=complaint.rated_at
    )
    return publish(event)
