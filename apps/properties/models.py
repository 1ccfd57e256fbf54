import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.accounts.models import Role
from apps.core.validators import code_validator, printable_line, printable_text


def default_time_zone():
    return settings.TIME_ZONE


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name, e.g. Europe/Paris.")


class Property(models.Model):
    name = models.CharField(max_length=200, validators=[printable_line])
    code = models.SlugField(max_length=32, unique=True)
    address = models.TextField(max_length=1000, blank=True, validators=[printable_text])
    # Where the property's day begins: daily digests and report days follow it.
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    # Announcements' email and SMS wait until quiet hours end (local time; emergencies
    # do not); start after end means the quiet hours span midnight.
    quiet_hours_start = models.TimeField(default=datetime.time(22, 0))
    quiet_hours_end = models.TimeField(default=datetime.time(7, 0))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "properties"

    def __str__(self):
        return self.name


class Unit(models.Model):
    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="units")
    # The code a resident gives when registering, e.g. "OAK-12B".
    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    floor = models.CharField(max_length=16, blank=True, validators=[printable_line])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["property__name", "code"]

    def __str__(self):
        return self.code


class Residency(models.Model):
    """Who lives where, and when; an open residency has no end date. A start date ahead
    is a planned move-in, an end date a planned move-out (its last day with rights).

    Only an approved residency gives rights in its unit. A claim (registering with a unit
    code) starts pending until a manager of the property approves or rejects it; an
    accepted invitation and a manager's own entry are approved from the start."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="residencies"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="residencies")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.APPROVED, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # When the office's job (residency_moves_process) saw the move-in and the move-out
    # take effect, and published residency.started / residency.ended: once each.
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-start_date"]
        verbose_name_plural = "residencies"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="residency_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.resident} in {self.unit}"


class StaffAssignment(models.Model):
    """A staff member works at a property in a role (and may be on duty there)."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(
        max_length=32, choices=[(r.value, r.label) for r in Role if r != Role.RESIDENT]
    )
    on_duty = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["property__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "property", "role"], name="unique_staff_assignment"
            ),
        ]

    def __str__(self):
        return f"{self.staff} ({self.role}) at {self.property}"
