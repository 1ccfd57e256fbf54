"""Writes of the complaints app: filing, replying, moving through the workflow, rating.

The workflow is COMPLAINT_WORKFLOW below (apps/core/workflow.py runs it), and nowhere else.
"""

from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.complaints import events
from apps.complaints.models import Complaint, ComplaintComment, ComplaintStatus
from apps.core.errors import Conflict
from apps.core.workflow import RESIDENT, STAFF, Workflow
from apps.notifications.services import notification_request, notifications_request_for
from apps.properties.selectors import (
    resident_unit_for,
    staff_for_property,
    workflow_access_check,
    workflow_actor,
    workflow_actor_required,
)

AREA = "complaints"


S = ComplaintStatus
# Every step is taken by staff: customer service of the property, its managers, admins.
COMPLAINT_WORKFLOW = Workflow(
    model=Complaint,
    noun="complaint",
    statuses=ComplaintStatus,
    actor_of=partial(workflow_actor, area=AREA),
    transitions={
        (S.OPEN, S.IN_REVIEW): {STAFF},
        (S.IN_REVIEW, S.RESOLVED): {STAFF},
        (S.RESOLVED, S.CLOSED): {STAFF},
    },
)
RATEABLE_STATUSES = (S.RESOLVED, S.CLOSED)


def complaint_actor_authorize(user):
    return workflow_actor_required(user, AREA)


def complaint_file_authorize(user):
    return workflow_actor_required(user, AREA, RESIDENT, message="Only residents file complaints.")


def complaint_transition_authorize(user):
    return workflow_actor_required(
        user, AREA, STAFF, message="Only customer service, managers and admins move complaints."
    )


def complaint_rate_authorize(user):
    return workflow_actor_required(
        user, AREA, RESIDENT, message="Only the resident who complained may rate."
    )


def complaint_file(*, resident, category, subject, description, unit=None):
    """A resident files a complaint for their current unit; it starts `open`."""
    complaint_file_authorize(resident)
    unit = resident_unit_for(
        resident,
        unit,
        missing="You have no current unit to complain about.",
        foreign="You can only file complaints for your current unit.",
    )
    with transaction.atomic():
        complaint = COMPLAINT_WORKFLOW.start(
            by=resident,
            property_id=unit.property_id,
            unit=unit,
            resident=resident,
            category=category,
            subject=subject,
            description=description,
        )
        events.complaint_filed(complaint)
    return complaint


def complaint_comment_add(*, complaint, author, body):
    """A reply by staff, or a comment by the resident on their own complaint."""
    actor = complaint_actor_authorize(author)
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        workflow_access_check(complaint, author, actor, AREA)
        if complaint.status == ComplaintStatus.CLOSED:
            raise Conflict(
                "This complaint is closed; it takes no more comments.", status=complaint.status
            )
        comment = ComplaintComment(complaint=complaint, author=author, body=body)
        comment.full_clean()
        comment.save()
        complaint.version += 1
        complaint.save(update_fields=["version", "updated_at"])
        events.complaint_updated(
            complaint, change=events.CHANGE_REPLY, from_status=complaint.status, comment=comment
        )
    return comment


def _stamp_resolution(complaint, now):
    if complaint.status == ComplaintStatus.RESOLVED:
        complaint.resolved_at = now


def complaint_transition(*, complaint, to_status, user, note="", expected_version=None):
    """Move a complaint to `to_status` (staff only); Conflict (409) names the allowed steps."""
    actor = complaint_transition_authorize(user)
    with transaction.atomic():
        complaint, change = COMPLAINT_WORKFLOW.transition(
            complaint,
            to_status,
            user=user,
            actor=actor,
            note=note,
            expected_version=expected_version,
            check_access=lambda locked: workflow_access_check(locked, user, actor, AREA),
            apply=_stamp_resolution,
            fields=["resolved_at"],
        )
        events.complaint_updated(
            complaint, change=events.CHANGE_STATUS, from_status=change.from_status
        )
    return complaint


def complaint_rate(*, complaint, user, rating, comment=""):
    """The resident rates how their complaint was handled, once, when resolved or closed."""
    actor = complaint_rate_authorize(user)
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        workflow_access_check(complaint, user, actor, AREA)
        if complaint.status not in RATEABLE_STATUSES:
            raise Conflict(
                f"A complaint can be rated only once resolved or closed; it is "
                f"'{complaint.status}'.",
                status=complaint.status,
            )
        if complaint.rating is not None:
            raise Conflict("This complaint has already been rated.", rating=complaint.rating)
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValidationError({"rating": ["Give a rating from 1 to 5."]})
        complaint.rating = rating
        complaint.rating_comment = comment or ""
        complaint.rated_at = timezone.now()
        complaint.version += 1
        complaint.save(
            update_fields=["rating", "rating_comment", "rated_at", "version", "updated_at"]
        )
        events.complaint_rated(complaint)
    return complaint


def complaint_filed_announce(complaint_id):
    """Tell the property's customer-service staff about a new complaint."""

    complaint = Complaint.objects.select_related("unit", "property").get(id=complaint_id)
    staff = staff_for_property(complaint.property_id, [Role.CUSTOMER_SERVICE])
    return notifications_request_for(
        staff,
        channel="in_app",
        template="complaint_filed_staff",
        category="complaint",
        variables={
            "complaint_id": complaint.id,
            "category": complaint.get_category_display(),
            "subject": complaint.subject,
            "unit": complaint.unit.code,
            "property": complaint.property.name,
        },
    )


def complaint_update_announce(complaint_id, *, change, comment_id=None, version):
    """Tell the resident about staff's reply or a new status; their own comments and
    superseded status events tell nothing."""

    complaint = Complaint.objects.select_related("resident").get(id=complaint_id)
    comment = ComplaintComment.objects.filter(id=comment_id).first() if comment_id else None
    if change == "reply" and (comment is None or comment.author_id == complaint.resident_id):
        return None
    if change == "status" and version < complaint.version:
        return None
    return notification_request(
        user=complaint.resident,
        channel="in_app",
        template="complaint_updated_resident",
        category="complaint",
        variables={
            "complaint_id": complaint.id,
            "status": complaint.get_status_display(),
            "comment": comment.body if comment else "",
        },
    )
