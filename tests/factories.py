"""Plain factory functions for tests: properties, units and users of every role (with
their StaffAssignment or Residency). Generic on purpose; any app's tests may use them."""

import itertools
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Role, User
from apps.properties.models import Property, Residency, StaffAssignment, Unit

PASSWORD = "a-long-unusual-passphrase-42"
ROLES = [r.value for r in Role]  # resident, maintenance, security, customer_service, ...

_seq = itertools.count(1)


def make_property(code=None, name=None, **extra):
    code = code or f"prop{next(_seq)}"
    return Property.objects.create(code=code, name=name or f"Property {code}", **extra)


def make_unit(property=None, code=None, **extra):
    property = property or make_property()
    return Unit.objects.create(property=property, code=code or f"U{next(_seq)}", **extra)


def make_user(role, property=None, unit=None, *, password=PASSWORD, **extra):
    """A user of `role`; staff are assigned to `property`, residents live in `unit`.

    Admins get the admin role only (not superuser), as in the API; pass is_superuser=True
    for a Django superuser.
    """
    role = Role(role)
    n = next(_seq)
    extra.setdefault("email", f"{role.value}{n}@example.com")
    user = User.objects.create_user(
        username=extra.pop("username", f"{role.value}{n}"), password=password, role=role, **extra
    )
    if unit is not None:
        Residency.objects.create(
            resident=user, unit=unit, start_date=timezone.localdate() - timedelta(days=30)
        )
    if property is not None and role not in (Role.RESIDENT, Role.ADMIN):
        StaffAssignment.objects.create(staff=user, property=property, role=role)
    return user


def client_for(user=None):
    """An APIClient authenticated as `user` (anonymous for None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
