from django.conf import settings
from django.db import models

from apps.core.validators import text_field
from apps.core.workflow import StatusChange, WorkflowModel, status_fields


class RepairCategory(models.TextChoices):
    PLUMBING = "plumbing", "Plumbing"
    ELECTRICAL = "electrical", "Electrical"
    HEATING = "heating", "Heating"
    APPLIANCE = "appliance", "Appliance"
    STRUCTURAL = "structural", "Structural"
    PEST = "pest", "Pest"
    OTHER = "other", "Other"


class RepairUrgency(models.TextChoices):
    # Alphabetical order happens to be severity order, so ordering by urgency works.
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    URGENT = "urgent", "Urgent"


class RepairStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
    REOPENED = "reopened", "Reopened"


class RepairRequest(WorkflowModel):
    """A resident's request to fix something in their unit.

    `property` is denormalised from `unit` so that staff scoping is one indexed filter.
    The workflow is REPAIR_WORKFLOW in apps/repairs/services.py.
    """

    property = models.ForeignKey(
        "properties.Property", on_delete=models.PROTECT, related_name="repair_requests"
    )
    unit = models.ForeignKey(
        "properties.Unit", on_delete=models.PROTECT, related_name="repair_requests"
    )
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="repair_requests"
    )
    category = models.CharField(max_length=32, choices=RepairCategory.choices)
    description = text_field()
    urgency = models.CharField(
        max_length=16, choices=RepairUrgency.choices, default=RepairUrgency.NORMAL
    )
    preferred_time = models.DateTimeField(null=True, blank=True)
    preferred_window = models.CharField(
        max_length=200, blank=True, help_text='Free-text time window, e.g. "weekday mornings".'
    )
    status = models.CharField(
        max_length=16, choices=RepairStatus.choices, default=RepairStatus.SUBMITTED
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["property", "status"], name="repair_property_status_idx"),
            models.Index(fields=["created_at"], name="repair_created_idx"),
        ]

    def __str__(self):
        return f"Repair #{self.pk} ({self.get_category_display()}, {self.unit})"


class RepairStatusChange(StatusChange):
    repair = models.ForeignKey(RepairRequest, on_delete=models.CASCADE, related_name="history")
    from_status, to_status = status_fields(RepairStatus)
