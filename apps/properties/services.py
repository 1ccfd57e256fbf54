"""Writes of the properties app."""

from django.db import transaction

from apps.accounts.models import Role
from apps.properties.models import Property, StaffAssignment, Unit

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
