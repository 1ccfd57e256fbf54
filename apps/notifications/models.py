import uuid

from django.conf import settings
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    IN_APP = "in_app", "In-app"


class Category(models.TextChoices):
    ACCOUNT = "account", "Account"
    VISITOR = "visitor", "Visitor"
    REPAIR = "repair", "Repair"
    REPAIR_URGENT = "repair_urgent", "Urgent repair"
    COMPLAINT = "complaint", "Complaint"
    PARCEL = "parcel", "Parcel"
    GENERAL = "general", "General"
    ANNOUNCEMENT = "announcement", "Announcement"
    EMERGENCY = "emergency", "Emergency"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # An attempt was made and its worker died before recording the outcome, and the
    # provider does not honour our idempotency key: sending again could duplicate it, so
    # an operator checks with the provider (see docs/MESSAGING.md).
    UNKNOWN = "unknown", "Outcome unknown"


class Notification(models.Model):
    """One message to one recipient over one channel, and where its delivery stands.

    `user` and/or `address` say who: the address (email or phone) wins when given,
    otherwise the user's email/phone is used; in-app notifications need a user.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    address = models.CharField(max_length=254, blank=True)
    category = models.CharField(max_length=32, choices=Category.choices)
    template = models.CharField(max_length=100)
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    variables = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Provider calls started. `attempt_started_at` is committed before each call and
    # cleared with its outcome: set on a redelivery, it means an attempt without outcome.
    attempts = models.PositiveIntegerField(default=0)
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Copies sent after an attempt of unknown outcome (an operator's resend, or the
    # automatic one of an emergency): each is marked as a possible duplicate. Set, the
    # request makes the next delivery message flagged `resend` send an unknown one.
    resends = models.PositiveIntegerField(default=0)
    resend_requested_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications_requested",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "channel", "-created_at"], name="notification_inbox_idx"),
            models.Index(fields=["status"], name="notification_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(address=""),
                name="notification_has_recipient",
            ),
        ]

    def __str__(self):
        return f"{self.channel} {self.template} to {self.recipient_display} ({self.status})"

    @property
    def recipient_display(self):
        return self.address or (str(self.user) if self.user_id else "")

    @property
    def is_rendered(self):
        return bool(self.body_text)

    @property
    def is_possible_duplicate(self):
        return self.resends > 0

    @property
    def idempotency_key(self):
        """Given to the provider with every attempt: the same on a resend."""
        return str(self.id)


class NotificationStatusChange(models.Model):
    """History: one row for every status change (and every failed attempt)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=16, choices=Status.choices)
    detail = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["at"], name="notification_change_at_idx")]  # pruning

    def __str__(self):
        return f"{self.notification_id} -> {self.status}"


class NotificationPreference(models.Model):
    """A user's explicit choice for one (category, channel); no row means the default
    (see apps.notifications.services.preference_default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    category = models.CharField(max_length=32, choices=Category.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    enabled = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "category", "channel"], name="unique_notification_preference"
            ),
        ]

    def __str__(self):
        return f"{self.user_id} {self.category}/{self.channel}={'on' if self.enabled else 'off'}"
