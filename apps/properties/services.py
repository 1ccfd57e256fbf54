"""Writes of the properties app."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Role
from apps.properties import events
from apps.properties.models import Property, Residency, StaffAssignment, Unit

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
    today = timezone.localdate(now)
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
