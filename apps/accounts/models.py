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


class ApiToken(models.Model):
    """An API token: many per user (one per login), each expiring and revocable.

    Only a SHA-256 digest of the key is stored, so a database leak reveals no usable
    token; the key is shown once, when the token is issued (apps/accounts/services.py)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self):
        return f"token of {self.user} until {self.expires_at:%Y-%m-%d %H:%M}"
