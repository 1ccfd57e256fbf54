from django.contrib.auth.models import AbstractUser
from django.db import models

from apps.core.roles import STAFF_ROLES, Role

__all__ = ["STAFF_ROLES", "Role", "User"]


class User(AbstractUser):
    """A person who uses propmgmt; what they may see follows from `role`."""

    email = models.EmailField("email address", unique=True)
    phone = models.CharField(max_length=32, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.RESIDENT)

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_resident(self):
        return self.role == Role.RESIDENT

    @property
    def is_admin_role(self):
        return self.role == Role.ADMIN or self.is_superuser
