"""Writes of the visitors app: the visitor workflow.

expected -> arrived (check in) -> departed (check out); expected -> cancelled. The
workflow is VISITOR_WORKFLOW below (apps/core/workflow.py runs it), and nowhere else. A
walk-in is created directly arrived. Each step bumps the version, records a
VisitorStatusChange and publishes its event in the same transaction. Every service checks
who acts (`visitor_*_authorize`, which the API's role rules are too) and on which visitor.
"""

from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.core.workflow import RESIDENT, STAFF, Workflow
from apps.notifications.services import notification_request, notifications_request_for
from apps.properties.selectors import (
    resident_unit_for,
    staff_for_property,
    unit_current_residencies,
    workflow_actor,
    workflow_actor_required,
)
from apps.visitors import events
from apps.visitors.models import Visitor, VisitorStatus
from apps.visitors.selectors import visitors_visible_to

AREA = "visitors"

S = VisitorStatus
# Staff: security of the property, its managers, admins; resident: of the visitor's unit.
VISITOR_WORKFLOW = Workflow(
    model=Visitor,
    noun="visitor",
    statuses=VisitorStatus,
    actor_of=partial(workflow_actor, area=AREA),
    transitions={
        (S.EXPECTED, S.ARRIVED): {STAFF},
        (S.EXPECTED, S.CANCELLED): {STAFF, RESIDENT},
        (S.ARRIVED, S.DEPARTED): {STAFF},
    },
    action_labels={
        S.ARRIVED: "check in",
        S.DEPARTED: "check out",
        S.CANCELLED: "cancel",
    },
)


def visitor_actor_authorize(user):
    return workflow_actor_required(user, AREA)


def visitor_expect_authorize(user):
    return workflow_actor_required(
        user, AREA, RESIDENT, message="Only residents pre-register visitors."
    )


def visitor_desk_authorize(user):
    """Checking in and out and registering walk-ins: the gate's work."""
    return workflow_actor_required(
        user,
        AREA,
        STAFF,
        message="Only security, managers and admins check visitors in and out.",
    )


def visitor_access_check(visitor, user):
    """Raise PermissionDenied unless `user` may act on `visitor`: a resident of its unit,
    staff where they work on visitors, admins (the API's scoping gives 404 first)."""
    if not visitors_visible_to(user).filter(pk=visitor.pk).exists():
        raise PermissionDenied("You may act only on the visitors of your unit or properties.")


def visitor_expect(
    *, host, name, expected_arrival, unit=None, purpose="", vehicle_plate=""
) -> Visitor:
    """A resident pre-registers a visitor for their current unit (or `unit`, if they live
    in several)."""
    visitor_expect_authorize(host)
    unit = resident_unit_for(
        host,
        unit,
        missing="You have no current residency, so you cannot register visitors.",
        foreign="You can only register visitors for your current unit.",
    )
    if expected_arrival < timezone.now():
        raise ValidationError({"expected_arrival": ["The expected arrival is in the past."]})
    with transaction.atomic():
        visitor = VISITOR_WORKFLOW.start(
            by=host,
            unit=unit,
            property_id=unit.property_id,
            host=host,
            name=name,
            expected_arrival=expected_arrival,
            purpose=purpose,
            vehicle_plate=vehicle_plate,
        )
        events.visitor_expected(visitor)
    return visitor


def visitor_walk_in(*, by, unit, name, host=None, purpose="", vehicle_plate="") -> Visitor:
    """Security registers a visitor who arrived unannounced: created directly arrived."""
    visitor_desk_authorize(by)
    if host is None:
        residency = unit_current_residencies(unit).first()
        host = residency.resident if residency else None
    now = timezone.now()
    with transaction.atomic():
        visitor = VISITOR_WORKFLOW.start(
            by=by,
            status=S.ARRIVED,
            at=now,
            unit=unit,
            property_id=unit.property_id,
            host=host,
            name=name,
            expected_arrival=now,
            purpose=purpose,
            vehicle_plate=vehicle_plate,
            walk_in=True,
            arrived_at=now,
            checked_in_by=by,
        )
        events.visitor_arrived(visitor)
    return visitor


def _step(visitor, to_status, by, actor, *, at_field=None, by_field=None):
    """Take a step as `actor`, stamping when (`at_field`) and by whom (`by_field`) when
    given."""

    def stamp(locked, now):
        if at_field:
            setattr(locked, at_field, now)
            setattr(locked, by_field, by)

    visitor, _ = VISITOR_WORKFLOW.transition(
        visitor,
        to_status,
        user=by,
        actor=actor,
        check_access=lambda locked: visitor_access_check(locked, by),
        apply=stamp,
        fields=[at_field, by_field] if at_field else [],
    )
    return visitor


def visitor_check_in(visitor: Visitor, *, by) -> Visitor:
    actor = visitor_desk_authorize(by)
    with transaction.atomic():
        visitor = _step(
            visitor, S.ARRIVED, by, actor, at_field="arrived_at", by_field="checked_in_by"
        )
        events.visitor_arrived(visitor)
    return visitor


def visitor_check_out(visitor: Visitor, *, by) -> Visitor:
    actor = visitor_desk_authorize(by)
    with transaction.atomic():
        visitor = _step(
            visitor, S.DEPARTED, by, actor, at_field="departed_at", by_field="checked_out_by"
        )
        events.visitor_departed(visitor)
    return visitor


def visitor_cancel(visitor: Visitor, *, by) -> Visitor:
    """Cancel an expected visit: a resident of its unit, or staff (no event is subscribed
    for cancellations). `by=None` is the system acting as staff (a move-out), as
    `repair_transition` takes it."""
    if by is None:
        visitor, _ = VISITOR_WORKFLOW.transition(visitor, S.CANCELLED, user=None, actor=STAFF)
        return visitor
    return _step(visitor, S.CANCELLED, by, visitor_actor_authorize(by))


def visitor_arrival_announce(visitor_id):
    """Tell the on-duty security staff of the property, and the host, that a visitor
    arrived (the visitor_management consumer): in-app for both."""

    visitor = Visitor.objects.select_related("unit", "property", "host").get(id=visitor_id)
    variables = {
        "visitor_name": visitor.name,
        "unit": visitor.unit.code,
        "property": visitor.property.name,
        "arrived_at": visitor.arrived_at.isoformat() if visitor.arrived_at else "",
    }
    security = staff_for_property(visitor.property_id, [Role.SECURITY], on_duty_only=True)
    sent = notifications_request_for(
        security,
        channel="in_app",
        template="visitor_arrived_security",
        category="visitor",
        variables=variables,
    )
    if visitor.host_id:
        host = notification_request(
            user=visitor.host,
            channel="in_app",
            template="visitor_arrived_host",
            category="visitor",
            variables=variables,
        )
        sent += [host] if host else []
    return sent
