"""Roles, and what follows from a role alone. Shared by every app (identity, the admin
site, scoping), and kept free of models so that every app's AppConfig can name roles when
it declares their permissions."""

from django.db import models


class Role(models.TextChoices):
    RESIDENT = "resident", "Resident"
    MAINTENANCE = "maintenance", "Maintenance"
    SECURITY = "security", "Security"
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


STAFF_ROLES = (Role.MAINTENANCE, Role.SECURITY, Role.CUSTOMER_SERVICE, Role.MANAGER)


def user_is_admin(user):
    """The one admin check (tests/architecture/test_access_policy.py): the admin role or a
    superuser; an anonymous user is not one."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


def user_is_manager_or_admin(user):
    return bool(
        user_is_admin(user) or (user and user.is_authenticated and user.role == Role.MANAGER)
    )


def user_uses_admin(user):
    """Staff and admins work in the Django admin; residents use the API only."""
    return bool(user.is_active and (user_is_admin(user) or user.role in STAFF_ROLES))
