from django.conf import settings
from django.db import models

from apps.properties.models import Unit


class Invitation(models.Model):
    """A manager's invitation for someone to live in a unit.

    The emailed link carries a signed token naming the invitation and its `nonce`
    (apps/registration/tokens.py); it expires after settings.INVITATION_MAX_AGE seconds and
    works once: accepting it sets `accepted_at` and creates an approved residency, which
    starts on `start_date` when the manager planned the move-in (no rights before that day;
    the move job publishes residency.started on it), else on the day it is accepted."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField(max_length=150)
    start_date = models.DateField(
        null=True,
        blank=True,
        verbose_name="planned move-in",
        help_text="The first day the invitee lives in the unit (empty: the day they accept).",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    nonce = models.CharField(max_length=32, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.email} to {self.unit}"
