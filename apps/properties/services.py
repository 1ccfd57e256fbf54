"""Writes of the properties app: properties, units, the move job, and move-out requests.

A move-out request goes requested -> approved / rejected (a manager of the property) or
withdrawn (the resident); the workflow is MOVE_OUT_WORKFLOW below (apps/core/workflow.py
runs it). Approving sets the residency's end date, which the move job then applies;
a request not approved changes nothing.
"""

from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Role
from apps.core.errors import Conflict
from apps.core.local_time import local_date, property_today
from apps.core.workflow import RESIDENT, STAFF, Guard, Workflow
from apps.properties import events
from apps.properties.models import (
    MoveOutRequest,
    MoveOutStatus,
    Property,
    Residency,
    StaffAssignment,
    Unit,
)
from apps.properties.selectors import (
    current_residencies,
    workflow_access_check,
    workflow_actor,
    workflow_actor_required,
)

PROPERTY_FIELDS = ("name", "code", "address")
UNIT_FIELDS = ("code", "floor")


def property_create(*, by, name, code, address="") -> Property:
    """Create a property; a manager who creates one is assigned to it as its manager."""
    with transaction.atomic():
        prop = Property(name=name, code=code, address=address)
        prop.full_clean()
        prop.save()
        if by.role == Role.MANAGER:
            StaffAssignment.objects.create(staff=by, property=prop, role=Role.MANAGER)
    return prop


def property_update(prop: Property, *, by, **changes) -> Property:
    with transaction.atomic():
        for field in PROPERTY_FIELDS:
            if field in changes:
                setattr(prop, field, changes[field])
        prop.full_clean()
        prop.save()
    return prop


def unit_create(*, by, property, code, floor="") -> Unit:
    with transaction.atomic():
        unit = Unit(property=property, code=code, floor=floor)
        unit.full_clean()
        unit.save()
    return unit


def unit_update(unit: Unit, *, by, **changes) -> Unit:
    with transaction.atomic():
        for field in UNIT_FIELDS:
            if field in changes:
                setattr(unit, field, changes[field])
        unit.full_clean()
        unit.save()
    return unit


def _moves_claim(due, stamp, announce, now):
    """Stamp each due residency once (a conditional update: a second or concurrent run
    finds it stamped) and publish its event in the same transaction."""
    done = 0
    for residency_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            if not Residency.objects.filter(pk=residency_id, **{f"{stamp}__isnull": True}).update(
                **{stamp: now}
            ):
                continue
            announce(Residency.objects.select_related("unit").get(pk=residency_id))
            done += 1
    return done


def residency_moves_process(*, now=None):
    """The office's move-in and move-out job (celery beat): each approved residency whose
    start date has come publishes residency.started, and each whose end date has passed
    (its last day with rights; the residency rule already gives it none) publishes
    residency.ended, once each however often it runs. Returns (started, ended)."""
    now = now or timezone.now()
    today = property_today("unit__property__time_zone", now)
    approved = Residency.objects.filter(status=Residency.Status.APPROVED)
    started = _moves_claim(
        approved.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today),
            start_date__lte=today,
            started_at__isnull=True,
        ),
        "started_at",
        events.residency_started,
        now,
    )
    ended = _moves_claim(
        approved.filter(end_date__lt=today, ended_at__isnull=True),
        "ended_at",
        events.residency_ended,
        now,
    )
    return started, ended


# --- move-out requests ---------------------------------------------------------------

# Managers (of the property) and admins decide; the resident requests and may withdraw.
MOVE_OUT_AREA = "management"
M = MoveOutStatus
MOVE_OUT_WORKFLOW = Workflow(
    model=MoveOutRequest,
    noun="move-out request",
    statuses=MoveOutStatus,
    actor_of=partial(workflow_actor, area=MOVE_OUT_AREA),
    staff_name="managers",
    transitions={
        (M.REQUESTED, M.APPROVED): {STAFF},
        (M.REQUESTED, M.REJECTED): {STAFF},
        (M.REQUESTED, M.WITHDRAWN): {RESIDENT},
    },
    guards={
        M.APPROVED: Guard(
            allows=lambda move_out, now: (
                move_out.end_date >= residency_today(move_out.residency, now)
            ),
            reason="The requested last day has passed; the resident may ask for another.",
        ),
    },
)


# The steps that decide a request (move_out.decided); a withdrawal publishes
# move_out.withdrawn instead (the managers told of the request are told it is gone).
MOVE_OUT_DECISIONS = (M.APPROVED, M.REJECTED)


def move_out_actor_authorize(user):
    return workflow_actor_required(user, MOVE_OUT_AREA)


def move_out_request_authorize(user):
    return workflow_actor_required(
        user, MOVE_OUT_AREA, RESIDENT, message="Only residents request a move-out."
    )


def move_out_transition_authorize(user, to_status):
    """Raise PermissionDenied when the user's role may never move a request to
    `to_status` (residents withdraw, managers and admins approve or reject)."""
    return MOVE_OUT_WORKFLOW.authorize_target(move_out_actor_authorize(user), to_status)


def residency_today(residency, now=None):
    """Today (or `now`'s date) at the residency's property."""
    return local_date(residency.unit.property.time_zone, now)


def end_date_check(residency, end_date, *, now=None, field="end_date"):
    """A planned last day: not in the past at the property, not before the residency's
    start (400 with a field message)."""
    today = residency_today(residency, now)
    if end_date < today:
        raise ValidationError({field: [f"The last day cannot be in the past (today is {today})."]})
    if end_date < residency.start_date:
        raise ValidationError(
            {
                field: [
                    f"The last day cannot be before the residency starts ({residency.start_date})."
                ]
            }
        )


def move_out_request(*, resident, end_date, residency=None, note="") -> MoveOutRequest:
    """A resident asks to end their current residency (or `residency`, one of theirs in
    force) after `end_date`. One request waits per residency (409 naming it). Publishes
    move_out.requested in the same transaction (its consumer tells the property's managers)."""
    move_out_request_authorize(resident)
    in_force = current_residencies(resident)
    if residency is None:
        residency = in_force.order_by("start_date", "id").first()
        if residency is None:
            raise ValidationError({"residency": ["You have no current residency to move out of."]})
    elif not in_force.filter(pk=residency.pk).exists():
        raise ValidationError({"residency": ["You can only move out of a home you live in now."]})
    end_date_check(residency, end_date)
    with transaction.atomic():
        # The residency's row lock serialises two requests sent at once.
        residency = (
            Residency.objects.select_for_update().select_related("unit").get(pk=residency.pk)
        )
        waiting = residency.move_out_requests.filter(status=M.REQUESTED).first()
        if waiting is not None:
            raise Conflict(
                f"Your move-out request {waiting.pk} (last day {waiting.end_date}) is waiting "
                "for a manager; withdraw it to ask for another date.",
                request=waiting.pk,
                status=waiting.status,
            )
        move_out = MOVE_OUT_WORKFLOW.start(
            by=resident,
            residency=residency,
            unit=residency.unit,
            property_id=residency.unit.property_id,
            resident=resident,
            end_date=end_date,
            note=note,
        )
        events.move_out_requested(move_out)
    return move_out


def _move_out_apply(move_out, now):
    """Approving: the residency's end date becomes the requested one."""
    residency = Residency.objects.select_for_update().get(pk=move_out.residency_id)
    if residency.ended_at is not None:
        raise Conflict("This residency has already ended.", status=residency.status)
    end_date_check(residency, move_out.end_date, now=now)
    residency.end_date = move_out.end_date
    residency.full_clean()
    residency.save(update_fields=["end_date"])


def move_out_transition(*, move_out, to_status, user, note="", expected_version=None):
    """Move a move-out request to `to_status` on behalf of `user`. Approving sets the
    residency's planned end (the move job ends it after that day); rejecting and
    withdrawing change nothing else. Approving and rejecting publish move_out.decided in
    the same transaction (its consumer tells the resident), withdrawing move_out.withdrawn
    (its consumer tells the managers who were told of the request). 403 for a step the role never
    takes or a property the manager does not manage, 409 naming the allowed steps (or a
    stale version)."""
    actor = move_out_transition_authorize(user, to_status)
    apply = _move_out_apply if to_status == M.APPROVED else None
    with transaction.atomic():
        move_out, change = MOVE_OUT_WORKFLOW.transition(
            move_out,
            to_status,
            user=user,
            actor=actor,
            note=note,
            expected_version=expected_version,
            check_access=lambda locked: workflow_access_check(locked, user, actor, MOVE_OUT_AREA),
            apply=apply,
        )
        if to_status in MOVE_OUT_DECISIONS:
            events.move_out_decided(move_out, change)
        elif to_status == M.WITHDRAWN:
            events.move_out_withdrawn(move_out, change)
    return move_out
