"""Writes of the visitors app: the visitor workflow.

expected -> arrived (check in) -> departed (check out); expected -> cancelled
(VISITOR_WORKFLOW, run by apps/core/workflow.py). A walk-in is created directly arrived.
Each step bumps the version, records a VisitorEvent and publishes its event in the same
transaction.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.core.workflow import ANYONE, Workflow
from apps.notifications.services import notification_request, notifications_request_for
from apps.properties.selectors import staff_for_property, unit_current_residencies
from apps.visitors import events
from apps.visitors.models import Visitor

Status = Visitor.Status
# Who may take each step is the API's role rules (residents cancel, security the rest).
VISITOR_WORKFLOW = Workflow(
    model=Visitor,
    noun="visitor",
    statuses=Status,
    actor_of=lambda user: ANYONE,
    transitions={
        (Status.EXPECTED, Status.ARRIVED): {ANYONE},
        (Status.EXPECTED, Status.CANCELLED): {ANYONE},
        (Status.ARRIVED, Status.DEPARTED): {ANYONE},
    },
    action_labels={
        Status.ARRIVED: "check in",
        Status.DEPARTED: "check out",
        Status.CANCELLED: "cancel",
    },
)


def visitor_expect(*, host, unit, name, expected_arrival, purpose="", vehicle_plate="") -> Visitor:
    """A resident pre-registers a visitor for their unit."""
    if expected_arrival < timezone.now():
        raise ValidationError({"expected_arrival": ["The expected arrival is in the past."]})
    with transaction.atomic():
        visitor = VISITOR_WORKFLOW.start(
            by=host, unit=unit, property_id=unit.property_id, host=host, name=name,
            expected_arrival=expected_arrival, purpose=purpose, vehicle_plate=vehicle_plate,
        )  # fmt: skip
        events.visitor_expected(visitor)
    return visitor


def visitor_walk_in(*, by, unit, name, host=None, purpose="", vehicle_plate="") -> Visitor:
    """Security registers a visitor who arrived unannounced: created directly arrived."""
    if host is None:
        residency = unit_current_residencies(unit).first()
        host = residency.resident if residency else None
    now = timezone.now()
    with transaction.atomic():
        visitor = VISITOR_WORKFLOW.start(
            by=by, status=Status.ARRIVED, at=now, unit=unit, property_id=unit.property_id,
            host=host, name=name, expected_arrival=now, purpose=purpose,
            vehicle_plate=vehicle_plate, walk_in=True, arrived_at=now, checked_in_by=by,
        )  # fmt: skip
        events.visitor_arrived(visitor)
    return visitor


def _step(visitor, to_status, by, *, at_field=None, by_field=None):
    """Take a step, stamping when (`at_field`) and by whom (`by_field`) when given."""

    def stamp(locked, now):
        if at_field:
            setattr(locked, at_field, now)
            setattr(locked, by_field, by)

    fields = [at_field, by_field] if at_field else []
    visitor, _ = VISITOR_WORKFLOW.transition(
        visitor, to_status, user=by, apply=stamp, fields=fields
    )
    return visitor


def visitor_check_in(visitor: Visitor, *, by) -> Visitor:
    with transaction.atomic():
        visitor = _step(
            visitor, Status.ARRIVED, by, at_field="arrived_at", by_field="checked_in_by"
        )
        events.visitor_arrived(visitor)
    return visitor


def visitor_check_out(visitor: Visitor, *, by) -> Visitor:
    with transaction.atomic():
        visitor = _step(
            visitor, Status.DEPARTED, by, at_field="departed_at", by_field="checked_out_by"
        )
        events.visitor_departed(visitor)
    return visitor


def visitor_cancel(visitor: Visitor, *, by) -> Visitor:
    """Cancel an expected visit (no event is subscribed for cancellations)."""
    return _step(visitor, Status.CANCELLED, by)


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
        security, channel="in_app", template="visitor_arrived_security",
        category="visitor", variables=variables,
    )  # fmt: skip
    if visitor.host_id:
        host = notification_request(
            user=visitor.host, channel="in_app", template="visitor_arrived_host",
            category="visitor", variables=variables,
        )  # fmt: skip
        sent += [host] if host else []
    return sent
