from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.workflow import StatusChange, WorkflowModel, status_fields


class AnnouncementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"


class AnnouncementCategory(models.TextChoices):
    GENERAL = "general", "General"
    MAINTENANCE = "maintenance", "Maintenance"
    EMERGENCY = "emergency", "Emergency"


class Audience(models.TextChoices):
    RESIDENTS = "residents", "Residents"
    STAFF = "staff", "Staff"
    BOTH = "both", "Residents and staff"


class Announcement(WorkflowModel):
    """A message from the property office to many people at once.

    Who receives it: the residents (of the chosen floors or units, when narrowed) and/or
    the staff of its properties. In-app always; email and SMS when chosen. The workflow is
    ANNOUNCEMENT_WORKFLOW in apps/announcements/services.py; the fan-out is planned into
    batches (AnnouncementBatch), each creating its recipients (AnnouncementRecipient).
    """

    properties = models.ManyToManyField("properties.Property", related_name="announcements")
    # Narrowing (residents only): floors of the properties' units, or a list of units.
    floors = models.JSONField(default=list, blank=True)
    units = models.ManyToManyField("properties.Unit", blank=True, related_name="announcements")
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.RESIDENTS)
    category = models.CharField(
        max_length=16, choices=AnnouncementCategory.choices, default=AnnouncementCategory.GENERAL
    )
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=5000)
    by_email = models.BooleanField(default=False)
    by_sms = models.BooleanField(default=False)
    send_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=AnnouncementStatus.choices, default=AnnouncementStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    # Set once by the send consumer when it plans the batches (None: not planned yet).
    planned_at = models.DateTimeField(null=True, blank=True)
    recipients_planned = models.PositiveIntegerField(default=0)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-sent_at"], name="announcement_status_idx")]

    def __str__(self):
        return self.title

    @property
    def is_emergency(self):
        return self.category == AnnouncementCategory.EMERGENCY

    @property
    def channels(self):
        return ["in_app", *(["email"] if self.by_email else []), *(["sms"] if self.by_sms else [])]


class AnnouncementStatusChange(StatusChange):
    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="history")
    from_status, to_status = status_fields(AnnouncementStatus)


class AnnouncementBatch(models.Model):
    """One message of the fan-out: up to ANNOUNCEMENT_BATCH_SIZE users of one property."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE, related_name="+")
    size = models.PositiveIntegerField()
    # Done: its recipients were created (or it found the announcement cancelled: skipped).
    done_at = models.DateTimeField(null=True, blank=True)
    skipped = models.BooleanField(default=False)
    # Users of the batch deleted after planning: skipped, counted here.
    recipients_gone = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["announcement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "number"], name="unique_announcement_batch"
            )
        ]

    def __str__(self):
        return f"{self.announcement_id} batch {self.number}"


class AnnouncementDigest(models.Model):
    """Announcements over a user's hourly throttle, folded into one message sent when the
    hour window frees (`due_at`). At most one open (unsent) digest per user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="announcement_digests"
    )
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(sent_at__isnull=True), name="one_open_digest_per_user"
            )
        ]

    def __str__(self):
        return f"digest for {self.user_id} due {self.due_at:%Y-%m-%d %H:%M}"


class AnnouncementRecipient(models.Model):
    """One user's copy of an announcement: created once (unique), with the notification
    of each channel it was sent by (None: not sent by that channel — not chosen, opted out,
    no address — or not yet, while folded into a digest)."""

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="recipients"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="announcements_received"
    )
    batch = models.ForeignKey(AnnouncementBatch, on_delete=models.CASCADE, related_name="+")
    digest = models.ForeignKey(
        AnnouncementDigest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recipients",
    )
    in_app_notification = models.ForeignKey(
        "notifications.Notification", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    email_notification = models.ForeignKey(
        "notifications.Notification", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sms_notification = models.ForeignKey(
        "notifications.Notification", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["announcement", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "user"], name="unique_announcement_recipient"
            )
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="recipient_user_time_idx")]

    def __str__(self):
        return f"{self.announcement_id} to {self.user_id}"


NOTIFICATION_FIELDS = {
    "in_app": "in_app_notification",
    "email": "email_notification",
    "sms": "sms_notification",
}
