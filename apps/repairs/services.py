"""Writes of the repairs app: submitting a repair request and moving it through its workflow.

The workflow is REPAIR_WORKFLOW below (apps/core/workflow.py runs it), and nowhere else.
"""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.core.workflow import RESIDENT, STAFF, Guard, Workflow
from apps.notifications.services import notifications_request_for, notifications_request_over
from apps.properties.selectors import (
    resident_unit_for,
    staff_for_property,
    unit_current_residencies,
    workflow_access_check,
    workflow_actor,
    workflow_actor_required,
)
from apps.repairs import events
from apps.repairs.models import RepairRequest, RepairStatus, RepairUrgency

AREA = "repairs"
REOPEN_WINDOW = timedelta(days=14)


def repair_can_reopen(repair, *, now=None):
    """Whether a resolved repair is still within its reopen window."""
    now = now or timezone.now()
    return (
        repair.status == RepairStatus.RESOLVED
        and repair.resolved_at is not None
        and now - repair.resolved_at <= REOPEN_WINDOW
    )


S = RepairStatus
# Staff: maintenance of the property, its managers, admins; resident: who submitted it.
REPAIR_WORKFLOW = Workflow(
    model=RepairRequest,
    noun="repair",
    statuses=RepairStatus,
    actor_of=partial(workflow_actor, area=AREA),
    transitions={
        (S.SUBMITTED, S.ACKNOWLEDGED): {STAFF},
        (S.SUBMITTED, S.CANCELLED): {RESIDENT},
        (S.ACKNOWLEDGED, S.SCHEDULED): {STAFF},
        (S.ACKNOWLEDGED, S.CANCELLED): {RESIDENT},
        (S.SCHEDULED, S.IN_PROGRESS): {STAFF},
        (S.SCHEDULED, S.CANCELLED): {RESIDENT},
        (S.IN_PROGRESS, S.RESOLVED): {STAFF},
        (S.RESOLVED, S.CLOSED): {STAFF, RESIDENT},
        (S.RESOLVED, S.REOPENED): {RESIDENT},
        (S.REOPENED, S.ACKNOWLEDGED): {STAFF},
        (S.REOPENED, S.SCHEDULED): {STAFF},
    },
    guards={
        S.REOPENED: Guard(
            allows=lambda repair, now: repair_can_reopen(repair, now=now),
            reason=f"A repair can be reopened only within {REOPEN_WINDOW.days} days of being "
            "resolved; submit a new request instead.",
        ),
    },
)


def repair_actor_authorize(user):
    return workflow_actor_required(user, AREA)


def repair_submit_authorize(user):
    return workflow_actor_required(
        user, AREA, RESIDENT, message="Only residents submit repair requests."
    )


def repair_transition_authorize(user, to_status):
    """Raise PermissionDenied when the user's role may never move a repair to `to_status`."""
    return REPAIR_WORKFLOW.authorize_target(repair_actor_authorize(user), to_status)


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
    repair_submit_authorize(resident)
    unit = resident_unit_for(
        resident,
        unit,
        missing="You have no current unit to request a repair for.",
        foreign="You can only request repairs for your current unit.",
    )
    with transaction.atomic():
        repair = REPAIR_WORKFLOW.start(
            by=resident,
            property=unit.property,
            unit=unit,
            resident=resident,
            category=category,
            description=description,
            urgency=urgency,
            preferred_time=preferred_time,
            preferred_window=preferred_window or "",
        )
        events.repair_requested(repair)
    return repair


def _stamp_resolution(repair, now):
    if repair.status == RepairStatus.RESOLVED:
        repair.resolved_at = now
    elif repair.status == RepairStatus.REOPENED:
        repair.resolved_at = None


def repair_transition(*, repair, to_status, user, note="", expected_version=None):
    """Move a repair to `to_status` on behalf of `user`.

    PermissionDenied (403) when the user's role may never take that step or the repair is
    not theirs to act on; Conflict (409) when the step is not allowed from the current
    status, the reopen window has passed, or `expected_version` is stale. `user=None` is
    the property office's scheduled jobs, acting as staff.
    """
    actor = STAFF if user is None else repair_transition_authorize(user, to_status)
    with transaction.atomic():
        repair, change = REPAIR_WORKFLOW.transition(
            repair,
            to_status,
            user=user,
            actor=actor,
            note=note,
            expected_version=expected_version,
            check_access=None
            if user is None
            else (lambda locked: workflow_access_check(locked, user, actor, AREA)),
            apply=_stamp_resolution,
            fields=["resolved_at"],
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
    sent = notifications_request_over(
        maintenance,
        channels=("in_app", "email"),
        template="repair_requested_staff",
        category="repair",
        variables=variables,
    )
    if repair.urgency == RepairUrgency.URGENT:
        managers = staff_for_property(repair.property_id, [Role.MANAGER])
        sent += notifications_request_for(
            managers,
            channel="sms",
            template="repair_urgent_manager",
            category="repair_urgent",
            variables=variables,
        )
    return sent


def repair_status_announce(repair_id, version):
    """Tell the unit's residents now (the residency rule: who lives there today) their
    repair's new status: notices follow the unit, so after a move-out they reach who moved
    in, not who moved out (who filed it still reads it in the API). An event older than
    the repair's current version is skipped (None): the newer event tells the newer
    status, so messages arriving late or out of order never announce a status that is
    already past."""

    repair = RepairRequest.objects.select_related("unit", "property").get(id=repair_id)
    if version < repair.version:
        return None
    residents = [residency.resident for residency in unit_current_residencies(repair.unit)]
    return notifications_request_for(
        residents,
        channel="in_app",
        template="repair_status_resident",
        category="repair",
        variables=_repair_variables(repair),
    )
