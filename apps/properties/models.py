import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.accounts.models import Role
from apps.core.validators import (
    NOTE_MAX_LENGTH,
    code_validator,
    printable_line,
    printable_text,
    text_field,
)
from apps.core.workflow import StatusChange, WorkflowModel, status_fields


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


class MoveOutStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class MoveOutRequest(WorkflowModel):
    """A resident asks to end their residency on `end_date` (their last day with rights);
    a manager of the property approves it (the residency's end date becomes this one, and
    the move job ends it: residency_moves_process) or rejects it; the resident may
    withdraw it while it waits. The workflow is MOVE_OUT_WORKFLOW in
    apps/properties/services.py."""

    residency = models.ForeignKey(
        Residency, on_delete=models.CASCADE, related_name="move_out_requests"
    )
    # Denormalised from the residency for scoping and the workflow's access rule.
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="move_out_requests")
    property = models.ForeignKey(
        Property, on_delete=models.PROTECT, related_name="move_out_requests"
    )
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="move_out_requests"
    )
    end_date = models.DateField()
    note = text_field(NOTE_MAX_LENGTH, blank=True)
    status = models.CharField(
        max_length=16, choices=MoveOutStatus.choices, default=MoveOutStatus.REQUESTED
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the property's managers were told of it (move_out.requested), the resident
    # of the decision (move_out.decided), and those managers of its withdrawal
    # (move_out.withdrawn): stamped under the row lock, so a copy of an event tells no
    # one twice.
    managers_told_at = models.DateTimeField(null=True, blank=True, editable=False)
    resident_told_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawal_told_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "move-out request"
        constraints = [
            # One request waits per residency at a time.
            models.UniqueConstraint(
                fields=["residency"],
                condition=Q(status="requested"),
                name="one_waiting_move_out_per_residency",
            ),
        ]

    def __str__(self):
        return f"{self.resident} leaves {self.unit} after {self.end_date}"


class MoveOutStatusChange(StatusChange):
    request = models.ForeignKey(MoveOutRequest, on_delete=models.CASCADE, related_name="history")
    from_status, to_status = status_fields(MoveOutStatus)
