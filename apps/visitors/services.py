"""Writes of the visitors app: the visitor workflow.

expected -> arrived (check in) -> departed (check out); expected -> cancelled.
A walk-in is created directly arrived. Each step bumps the version, records a
VisitorEvent and publishes its event in the same transaction.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.notifications.services import notification_request, notifications_request_for
from apps.properties.selectors import staff_for_property, unit_current_residencies
from apps.visitors import events
from apps.visitors.models import Visitor, VisitorEvent
from propmgmt.api import Conflict

Status = Visitor.Status

# status -> {action: resulting status}
TRANSITIONS = {
    Status.EXPECTED: {"check_in": Status.ARRIVED, "cancel": Status.CANCELLED},
    Status.ARRIVED: {"check_out": Status.DEPARTED},
    Status.DEPARTED: {},
    Status.CANCELLED: {},
}
ACTION_NAMES = {"check_in": "check in", "check_out": "check out", "cancel": "cancel"}


def visitor_allowed_actions(visitor):
    return [ACTION_NAMES[a] for a in TRANSITIONS[Status(visitor.status)]]


def _record(visitor, by, at):
    VisitorEvent.objects.create(visitor=visitor, status=visitor.status, at=at, by=by)


def _transition(visitor, action, by):
    """Lock the visitor, check the step is allowed now, and apply it (status + version)."""
    visitor = Visitor.objects.select_for_update().get(pk=visitor.pk)
    allowed = TRANSITIONS[Status(visitor.status)]
    if action not in allowed:
        names = visitor_allowed_actions(visitor)
        raise Conflict(
            f"Cannot {ACTION_NAMES[action]} a visitor who is {visitor.status}; "
            f"allowed actions: {', '.join(names) if names else 'none'}."
        )
    visitor.status = allowed[action]
    visitor.version += 1
    return visitor


def visitor_expect(*, host, unit, name, expected_arrival, purpose="", vehicle_plate="") -> Visitor:
    """A resident pre-registers a visitor for their unit."""
    now = timezone.now()
    if expected_arrival < now:
        raise ValidationError({"expected_arrival": ["The expected arrival is in the past."]})
    with transaction.atomic():
        visitor = Visitor.objects.create(
            unit=unit,
            property_id=unit.property_id,
            host=host,
            name=name,
            expected_arrival=expected_arrival,
            purpose=purpose,
            vehicle_plate=vehicle_plate,
            status=Status.EXPECTED,
        )
        _record(visitor, host, now)
        events.visitor_expected(visitor)
    return visitor


def visitor_walk_in(*, by, unit, name, host=None, purpose="", vehicle_plate="") -> Visitor:
    """Security registers a visitor who arrived unannounced: created directly arrived."""
    if host is None:
        residency = unit_current_residencies(unit).first()
        host = residency.resident if residency else None
    now = timezone.now()
    with transaction.atomic():
        visitor = Visitor.objects.create(
            unit=unit,
            property_id=unit.property_id,
            host=host,
            name=name,
            expected_arrival=now,
            purpose=purpose,
            vehicle_plate=vehicle_plate,
            status=Status.ARRIVED,
            walk_in=True,
            arrived_at=now,
            checked_in_by=by,
        )
        _record(visitor, by, now)
        events.visitor_arrived(visitor)
    return visitor


def visitor_check_in(visitor: Visitor, *, by) -> Visitor:
    with transaction.atomic():
        visitor = _transition(visitor, "check_in", by)
        visitor.arrived_at = timezone.now()
        visitor.checked_in_by = by
        visitor.save()
        _record(visitor, by, visitor.arrived_at)
        events.visitor_arrived(visitor)
    return visitor


def visitor_check_out(visitor: Visitor, *, by) -> Visitor:
    with transaction.atomic():
        visitor = _transition(visitor, "check_out", by)
        visitor.departed_at = timezone.now()
        visitor.checked_out_by = by
        visitor.save()
        _record(visitor, by, visitor.departed_at)
        events.visitor_departed(visitor)
    return visitor


def visitor_cancel(visitor: Visitor, *, by) -> Visitor:
    """Cancel an expected visit (no event is subscribed for cancellations)."""
    with transaction.atomic():
        visitor = _transition(visitor, "cancel", by)
        visitor.save()
        _record(visitor, by, timezone.now())
    return visitor


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
