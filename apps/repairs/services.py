"""Writes of the repairs app: submitting a repair request and moving it through its workflow.

The workflow is the table REPAIR_TRANSITIONS below, and nowhere else.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.notifications.services import notification_request, notifications_request_for
from apps.properties.selectors import (
    current_residencies,
    resident_current_unit,
    scope_to_user,
    staff_for_property,
    user_can_work_in,
    user_is_admin,
)
from apps.repairs import events
from apps.repairs.models import (
    RepairRequest,
    RepairStatus,
    RepairStatusChange,
    RepairUrgency,
)
from propmgmt.api import Conflict

AREA = "repairs"
REOPEN_WINDOW = timedelta(days=14)

# Who may take a step: staff (maintenance of the property, its managers, admins) or the
# resident who submitted the request.
STAFF = "staff"
RESIDENT = "resident"

S = RepairStatus
# (from status, to status) -> the actors who may take that step.
REPAIR_TRANSITIONS = {
    (S.SUBMITTED, S.ACKNOWLEDGED): {STAFF},
    (S.SUBMITTED, S.CANCELLED): {RESIDENT},
    (S.ACKNOWLEDGED, S.SCHEDULED): {STAFF},
    (S.ACKNOWLEDGED, S.CANCELLED): {RESIDENT},
    (S.SCHEDULED, S.IN_PROGRESS): {STAFF},
    (S.SCHEDULED, S.CANCELLED): {RESIDENT},
    (S.IN_PROGRESS, S.RESOLVED): {STAFF},
    (S.RESOLVED, S.CLOSED): {STAFF, RESIDENT},
    (S.RESOLVED, S.REOPENED): {RESIDENT},  # within REOPEN_WINDOW of resolved_at
    (S.REOPENED, S.ACKNOWLEDGED): {STAFF},
    (S.REOPENED, S.SCHEDULED): {STAFF},
}
# Target statuses each kind of actor can ever reach (a step outside this set is a 403).
ACTOR_TARGETS = {
    actor: {to for (_, to), actors in REPAIR_TRANSITIONS.items() if actor in actors}
    for actor in (STAFF, RESIDENT)
}


def _conflict(detail, **extra):
    """A 409 whose body is {"detail": ..., **extra} with the extra values kept as they are
    (e.g. the list of allowed transitions, the current version)."""
    exc = Conflict(detail)
    exc.detail = {"detail": exc.detail, **extra}
    return exc


def allowed_transitions(status, actor=None):
    """Statuses reachable from `status` (by `actor` when given), in workflow order."""
    order = list(RepairStatus.values)
    targets = {
        to
        for (frm, to), actors in REPAIR_TRANSITIONS.items()
        if frm == status and (actor is None or actor in actors)
    }
    return sorted(targets, key=order.index)


def _describe(from_status, targets):
    """e.g. "acknowledged (by staff), cancelled (by resident)"."""
    if not targets:
        return "none (final status)"
    return ", ".join(
        f"{to} (by {' or '.join(sorted(REPAIR_TRANSITIONS[(from_status, to)]))})" for to in targets
    )


def repair_actor(user):
    """STAFF, RESIDENT, or None for a role that never acts on repairs."""
    if user_is_admin(user):
        return STAFF
    if user.role == Role.RESIDENT:
        return RESIDENT
    if user_can_work_in(user, AREA):
        return STAFF
    return None


def repair_transition_authorize(user, to_status):
    """Raise PermissionDenied when the user's role may never move a repair to `to_status`."""
    actor = repair_actor(user)
    if actor is None:
        raise PermissionDenied("Your role does not work on repairs.")
    if to_status not in ACTOR_TARGETS[actor]:
        who = "staff" if actor == STAFF else "residents"
        may = ", ".join(allowed_transitions_for_actor(actor)) or "none"
        raise PermissionDenied(
            f"{who.capitalize()} may never move a repair to '{to_status}'; "
            f"{who} may move repairs to: {may}."
        )
    return actor


def allowed_transitions_for_actor(actor):
    order = list(RepairStatus.values)
    return sorted(ACTOR_TARGETS[actor], key=order.index)


def repair_request_submit(
    *,
    resident,
    category,
    description,
    urgency=RepairUrgency.NORMAL,
    unit=None,
    preferred_time=None,
    preferred_window="",
):
    """A resident asks for a repair in their current unit (or `unit`, if they live in
    several); the request starts `submitted` and `repair.requested` is published."""
    if repair_actor(resident) != RESIDENT:
        raise PermissionDenied("Only residents submit repair requests.")
    if unit is None:
        unit = resident_current_unit(resident)
        if unit is None:
            raise ValidationError({"unit": ["You have no current unit to request a repair for."]})
    elif not current_residencies(resident).filter(unit=unit).exists():
        raise ValidationError({"unit": ["You can only request repairs for your current unit."]})
    now = timezone.now()
    with transaction.atomic():
        repair = RepairRequest(
            property_id=unit.property_id,
            unit=unit,
            resident=resident,
            category=category,
            description=description,
            urgency=urgency,
            preferred_time=preferred_time,
            preferred_window=preferred_window or "",
            status=RepairStatus.SUBMITTED,
            version=1,
        )
        repair.full_clean()
        repair.save()
        RepairStatusChange.objects.create(
            repair=repair,
            from_status="",
            to_status=RepairStatus.SUBMITTED,
            changed_by=resident,
            changed_at=now,
        )
        events.repair_requested(repair)
    return repair


def repair_can_reopen(repair, *, now=None):
    """Whether a resolved repair is still within its reopen window."""
    now = now or timezone.now()
    return (
        repair.status == RepairStatus.RESOLVED
        and repair.resolved_at is not None
        and now - repair.resolved_at <= REOPEN_WINDOW
    )


def repair_transition(*, repair, to_status, user, note="", expected_version=None):
    """Move a repair to `to_status` on behalf of `user`.

    403 (PermissionDenied) when the user's role may never take that step or the repair is
    not theirs to act on; 409 (Conflict) when the step is not allowed from the current
    status, the reopen window has passed, or `expected_version` is stale. `user=None` is
    the property office's scheduled jobs, acting as staff.
    """
    actor = STAFF if user is None else repair_transition_authorize(user, to_status)
    with transaction.atomic():
        repair = RepairRequest.objects.select_for_update().get(pk=repair.pk)
        if actor == RESIDENT and repair.resident_id != user.pk:
            raise PermissionDenied("Only the resident who submitted this repair may do that.")
        if (
            actor == STAFF
            and user is not None
            and not scope_to_user(RepairRequest.objects.filter(pk=repair.pk), user, AREA).exists()
        ):
            raise PermissionDenied("You do not work on repairs at this property.")
        if expected_version is not None and expected_version != repair.version:
            raise _conflict(
                f"The repair has changed (version {repair.version}, you sent "
                f"{expected_version}); reload it and try again.",
                version=repair.version,
            )
        from_status = repair.status
        step = (from_status, to_status)
        if step not in REPAIR_TRANSITIONS:
            allowed = allowed_transitions(from_status)
            raise _conflict(
                f"A repair cannot go from '{from_status}' to '{to_status}'. "
                f"Allowed from '{from_status}': {_describe(from_status, allowed)}.",
                status=from_status,
                allowed_transitions=allowed,
            )
        if actor not in REPAIR_TRANSITIONS[step]:
            # A step the role can take elsewhere but not here, e.g. staff closing is fine
            # but this guards future table edits.
            raise PermissionDenied(f"You may not move this repair to '{to_status}'.")
        now = timezone.now()
        if to_status == RepairStatus.REOPENED and not repair_can_reopen(repair, now=now):
            allowed = [a for a in allowed_transitions(from_status) if a != to_status]
            raise _conflict(
                f"A repair can be reopened only within {REOPEN_WINDOW.days} days of being "
                "resolved; submit a new request instead. "
                f"Allowed from '{from_status}': {', '.join(allowed)}.",
                status=from_status,
                allowed_transitions=allowed,
            )
        repair.status = to_status
        repair.version += 1
        if to_status == RepairStatus.RESOLVED:
            repair.resolved_at = now
        elif to_status == RepairStatus.REOPENED:
            repair.resolved_at = None
        repair.save(update_fields=["status", "version", "resolved_at", "updated_at"])
        change = RepairStatusChange.objects.create(
            repair=repair,
            from_status=from_status,
            to_status=to_status,
            changed_by=user,
            changed_at=now,
            note=note or "",
        )
        events.repair_status_changed(repair, change)
    return repair


def _repair_variables(repair):
    return {
        "repair_id": repair.id,
        "category": repair.get_category_display(),
        "urgency": repair.urgency,
        "description": repair.description,
        "unit": repair.unit.code,
        "property": repair.property.name,
        "status": repair.get_status_display(),
    }


def repair_request_announce(repair_id):
    """Tell the property's maintenance staff about a new repair (in-app and email);
    urgent ones also go to the property's managers by SMS."""

    repair = RepairRequest.objects.select_related("unit", "property").get(id=repair_id)
    variables = _repair_variables(repair)
    maintenance = list(staff_for_property(repair.property_id, [Role.MAINTENANCE]))
    sent = []
    for channel in ("in_app", "email"):
        sent += notifications_request_for(
            maintenance, channel=channel, template="repair_requested_staff",
            category="repair", variables=variables,
        )  # fmt: skip
    if repair.urgency == RepairUrgency.URGENT:
        managers = staff_for_property(repair.property_id, [Role.MANAGER])
        sent += notifications_request_for(
            managers, channel="sms", template="repair_urgent_manager",
            category="repair_urgent", variables=variables,
        )  # fmt: skip
    return sent


def repair_status_announce(repair_id, version):
    """Tell the resident their repair's new status. An event older than the repair's
    current version is skipped: the newer event tells the newer status, so messages
    arriving late or out of order never announce a status that is already past."""

    repair = RepairRequest.objects.select_related("unit", "property", "resident").get(id=repair_id)
    if version < repair.version or repair.resident is None:
        return None
    return notification_request(
        user=repair.resident, channel="in_app", template="repair_status_resident",
        category="repair", variables=_repair_variables(repair),
    )  # fmt: skip
