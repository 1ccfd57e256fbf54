"""Writes of the complaints app: filing, replying, moving through the workflow, rating.

The workflow is the table COMPLAINT_TRANSITIONS below, and nowhere else.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.complaints import events
from apps.complaints.models import (
    Complaint,
    ComplaintComment,
    ComplaintStatus,
    ComplaintStatusChange,
)
from apps.notifications.services import notification_request, notifications_request_for
from apps.properties.selectors import (
    current_residencies,
    resident_current_unit,
    scope_to_user,
    staff_for_property,
    user_can_work_in,
    user_is_admin,
)
from propmgmt.api import Conflict

AREA = "complaints"
STAFF = "staff"  # customer service of the property, its managers, admins
RESIDENT = "resident"

S = ComplaintStatus
# (from status, to status): every step is taken by staff.
COMPLAINT_TRANSITIONS = {
    (S.OPEN, S.IN_REVIEW),
    (S.IN_REVIEW, S.RESOLVED),
    (S.RESOLVED, S.CLOSED),
}
RATEABLE_STATUSES = (S.RESOLVED, S.CLOSED)


def _conflict(detail, **extra):
    exc = Conflict(detail)
    exc.detail = {"detail": exc.detail, **extra}
    return exc


def allowed_transitions(status):
    order = list(ComplaintStatus.values)
    return sorted((to for frm, to in COMPLAINT_TRANSITIONS if frm == status), key=order.index)


def complaint_actor(user):
    """STAFF, RESIDENT, or None for a role that never deals with complaints."""
    if user_is_admin(user):
        return STAFF
    if user.role == Role.RESIDENT:
        return RESIDENT
    if user_can_work_in(user, AREA):
        return STAFF
    return None


def _require_actor(user, *allowed, message):
    actor = complaint_actor(user)
    if actor is None:
        raise PermissionDenied("Your role does not deal with complaints.")
    if actor not in allowed:
        raise PermissionDenied(message)
    return actor


def complaint_transition_authorize(user):
    return _require_actor(
        user, STAFF, message="Only customer service, managers and admins move complaints."
    )


def complaint_rate_authorize(user):
    return _require_actor(user, RESIDENT, message="Only the resident who complained may rate.")


def complaint_comment_authorize(user):
    return _require_actor(user, STAFF, RESIDENT, message="You may not comment on complaints.")


def _check_access(complaint, user, actor):
    """Object-level rule shared by every write (the API's scoping gives 404 first)."""
    if actor == RESIDENT and complaint.resident_id != user.pk:
        raise PermissionDenied("This is not your complaint.")
    if (
        actor == STAFF
        and not scope_to_user(Complaint.objects.filter(pk=complaint.pk), user, AREA).exists()
    ):
        raise PermissionDenied("You do not handle complaints at this property.")


def complaint_file(*, resident, category, subject, description, unit=None):
    """A resident files a complaint for their current unit; it starts `open`."""
    _require_actor(resident, RESIDENT, message="Only residents file complaints.")
    if unit is None:
        unit = resident_current_unit(resident)
        if unit is None:
            raise ValidationError({"unit": ["You have no current unit to complain about."]})
    elif not current_residencies(resident).filter(unit=unit).exists():
        raise ValidationError({"unit": ["You can only file complaints for your current unit."]})
    with transaction.atomic():
        complaint = Complaint(
            property_id=unit.property_id,
            unit=unit,
            resident=resident,
            category=category,
            subject=subject,
            description=description,
            status=ComplaintStatus.OPEN,
            version=1,
        )
        complaint.full_clean()
        complaint.save()
        ComplaintStatusChange.objects.create(
            complaint=complaint,
            from_status="",
            to_status=ComplaintStatus.OPEN,
            changed_by=resident,
            changed_at=timezone.now(),
        )
        events.complaint_filed(complaint)
    return complaint


def complaint_comment_add(*, complaint, author, body):
    """A reply by staff, or a comment by the resident on their own complaint."""
    actor = complaint_comment_authorize(author)
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _check_access(complaint, author, actor)
        if complaint.status == ComplaintStatus.CLOSED:
            raise _conflict(
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


def complaint_transition(*, complaint, to_status, user, note="", expected_version=None):
    actor = complaint_transition_authorize(user)
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _check_access(complaint, user, actor)
        if expected_version is not None and expected_version != complaint.version:
            raise _conflict(
                f"The complaint has changed (version {complaint.version}, you sent "
                f"{expected_version}); reload it and try again.",
                version=complaint.version,
            )
        from_status = complaint.status
        if (from_status, to_status) not in COMPLAINT_TRANSITIONS:
            allowed = allowed_transitions(from_status)
            raise _conflict(
                f"A complaint cannot go from '{from_status}' to '{to_status}'. "
                f"Allowed from '{from_status}': "
                f"{', '.join(allowed) if allowed else 'none (final status)'}.",
                status=from_status,
                allowed_transitions=allowed,
            )
        now = timezone.now()
        complaint.status = to_status
        complaint.version += 1
        if to_status == ComplaintStatus.RESOLVED:
            complaint.resolved_at = now
        complaint.save(update_fields=["status", "version", "resolved_at", "updated_at"])
        ComplaintStatusChange.objects.create(
            complaint=complaint,
            from_status=from_status,
            to_status=to_status,
            changed_by=user,
            changed_at=now,
            note=note or "",
        )
        events.complaint_updated(complaint, change=events.CHANGE_STATUS, from_status=from_status)
    return complaint


def complaint_rate(*, complaint, user, rating, comment=""):
    """The resident rates how their complaint was handled, once, when resolved or closed."""
    actor = complaint_rate_authorize(user)
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _check_access(complaint, user, actor)
        if complaint.status not in RATEABLE_STATUSES:
            raise _conflict(
                f"A complaint can be rated only once resolved or closed; it is "
                f"'{complaint.status}'.",
                status=complaint.status,
            )
        if complaint.rating is not None:
            raise _conflict("This complaint has already been rated.", rating=complaint.rating)
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
        staff, channel="in_app", template="complaint_filed_staff", category="complaint",
        variables={
            "complaint_id": complaint.id, "category": complaint.get_category_display(),
            "subject": complaint.subject, "unit": complaint.unit.code,
            "property": complaint.property.name,
        },
    )  # fmt: skip


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
        user=complaint.resident, channel="in_app", template="complaint_updated_resident",
        category="complaint",
        variables={
            "complaint_id": complaint.id, "status": complaint.get_status_display(),
            "comment": comment.body if comment else "",
        },
    )  # fmt: skip
