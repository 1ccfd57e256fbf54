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
    return user.is_superuser or user.role == Role.ADMIN


def user_uses_admin(user):
    """Staff and admins work in the Django admin; residents use the API only."""
    return bool(
        user.is_active
        and user.is_authenticated
        and (user.is_superuser or user.role in (*STAFF_ROLES, Role.ADMIN))
    )
