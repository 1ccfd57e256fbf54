from django.conf import settings
from django.db import models

from apps.core.workflow import StatusChange, WorkflowModel, status_fields
from apps.properties.models import Property, Unit


class VisitorStatus(models.TextChoices):
    EXPECTED = "expected", "Expected"
    ARRIVED = "arrived", "Arrived"
    DEPARTED = "departed", "Departed"
    CANCELLED = "cancelled", "Cancelled"


class Visitor(WorkflowModel):
    """A visitor of a unit: pre-registered (expected) by a resident, or a walk-in that
    security registers on arrival. The workflow is VISITOR_WORKFLOW in
    apps/visitors/services.py."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="visitors")
    # Denormalised from unit for scoping by property.
    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="visitors")
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hosted_visitors",
    )
    name = models.CharField(max_length=200)
    expected_arrival = models.DateTimeField(null=True, blank=True)
    purpose = models.CharField(max_length=200, blank=True)
    vehicle_plate = models.CharField(max_length=20, blank=True)
    status = models.CharField(
        max_length=16, choices=VisitorStatus.choices, default=VisitorStatus.EXPECTED
    )
    walk_in = models.BooleanField(default=False)
    arrived_at = models.DateTimeField(null=True, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-expected_arrival", "-id"]
        indexes = [
            models.Index(fields=["property", "status"], name="visitor_property_status_idx"),
            models.Index(fields=["unit", "status"], name="visitor_unit_status_idx"),
        ]

    def __str__(self):
        return f"{self.name} for {self.unit}"


class VisitorStatusChange(StatusChange):
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="history")
    from_status, to_status = status_fields(VisitorStatus)
