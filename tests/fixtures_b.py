"""Small factories and fixtures for the repairs/complaints tests (and their permission
matrix): two properties, residents in each, every staff role assigned to each."""

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Role, User
from apps.properties.models import Property, Residency, StaffAssignment, Unit

_seq = itertools.count(1)

STAFF_ROLES = [Role.MAINTENANCE, Role.SECURITY, Role.CUSTOMER_SERVICE, Role.MANAGER]
ALL_ROLES = ["resident", *[r.value for r in STAFF_ROLES], "admin"]


def make_property(code=None):
    code = code or f"p{next(_seq)}"
    return Property.objects.create(name=f"Property {code}", code=code)


def make_unit(property, code=None):
    return Unit.objects.create(property=property, code=code or f"U-{next(_seq)}")


def make_user(role, property=None, unit=None, **extra):
    n = next(_seq)
    user = User.objects.create_user(
        username=f"{role}{n}", email=f"{role}{n}@example.com", password="pw", role=role, **extra
    )
    if unit is not None:
        Residency.objects.create(
            resident=user, unit=unit, start_date=timezone.localdate() - timedelta(days=30)
        )
    if property is not None and role not in (Role.RESIDENT, Role.ADMIN):
        StaffAssignment.objects.create(staff=user, property=property, role=role)
    return user


@dataclass
class Site:
    property: Property
    unit: Unit
    resident: User
    staff: dict = field(default_factory=dict)


@dataclass
class World:
    a: Site
    b: Site
    admin: User
    neighbour: User  # another resident of property A, in another unit

    def user(self, role, site="a"):
        """The user of `role` at `site` ("a" or "b"); admins belong to no site."""
        if role == "admin":
            return self.admin
        s = getattr(self, site)
        return s.resident if role == "resident" else s.staff[role]


def make_site(code):
    prop = make_property(code)
    unit = make_unit(prop, f"{code.upper()}-1")
    site = Site(property=prop, unit=unit, resident=make_user(Role.RESIDENT, unit=unit))
    for role in STAFF_ROLES:
        site.staff[role.value] = make_user(role, property=prop)
    return site


@pytest.fixture
def world(db):
    a = make_site(f"a{next(_seq)}")
    b = make_site(f"b{next(_seq)}")
    neighbour = make_user(Role.RESIDENT, unit=make_unit(a.property))
    return World(a=a, b=b, admin=make_user(Role.ADMIN), neighbour=neighbour)


@pytest.fixture
def api():
    """api(user) -> an APIClient authenticated as `user` (None: anonymous)."""

    def client(user=None):
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return client
