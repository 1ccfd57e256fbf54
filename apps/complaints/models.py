from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from apps.core.validators import NOTE_MAX_LENGTH, text_field
from apps.core.workflow import StatusChange, WorkflowModel, status_fields


class ComplaintCategory(models.TextChoices):
    NOISE = "noise", "Noise"
    CLEANLINESS = "cleanliness", "Cleanliness"
    SECURITY = "security", "Security"
    STAFF = "staff", "Staff"
    NEIGHBOUR = "neighbour", "Neighbour"
    BILLING = "billing", "Billing"
    OTHER = "other", "Other"


class ComplaintStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_REVIEW = "in_review", "In review"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class Complaint(WorkflowModel):
    """A resident's complaint; the workflow is COMPLAINT_WORKFLOW in apps/complaints/services.py."""

    property = models.ForeignKey(
        "properties.Property", on_delete=models.PROTECT, related_name="complaints"
    )
    unit = models.ForeignKey("properties.Unit", on_delete=models.PROTECT, related_name="complaints")
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="complaints"
    )
    category = models.CharField(max_length=32, choices=ComplaintCategory.choices)
    subject = models.CharField(max_length=200)
    description = text_field()
    status = models.CharField(
        max_length=16, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = text_field(NOTE_MAX_LENGTH, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["property", "status"], name="complaint_property_status_idx"),
            models.Index(fields=["created_at"], name="complaint_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="complaint_rating_1_to_5",
            ),
        ]

    def __str__(self):
        return f"Complaint #{self.pk}: {self.subject}"


class ComplaintComment(models.Model):
    """One message in a complaint's thread; the resident sees all of them."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = text_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "comment"

    def __str__(self):
        return f"Comment by {self.author} on #{self.complaint_id}"


class ComplaintStatusChange(StatusChange):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="history")
    from_status, to_status = status_fields(ComplaintStatus)
