import uuid

from django.conf import settings
from django.db import models

# The relay LISTENs on this channel; a trigger on the outbox table NOTIFYs it once per
# INSERT statement, which PostgreSQL delivers when (and only if) the transaction commits
# (migration 0004_outbox_notify_trigger).
OUTBOX_NOTIFY_CHANNEL = "outbox"


class OutboxMessage(models.Model):
    """One message for one consumer, written in the producer's transaction.

    Its id is the Celery task id, so a re-publish is a duplicate the consumer recognises.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=100)
    task_name = models.CharField(max_length=200)
    queue = models.CharField(max_length=100)
    payload = models.JSONField()
    priority = models.PositiveSmallIntegerField(null=True, blank=True)
    correlation_id = models.CharField(max_length=100)
    not_before = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    publish_attempts = models.PositiveIntegerField(default=0)
    # Times the broker refused this very row (returned as unroutable, nacked, a channel
    # error, unencodable), as opposed to the broker being down. Each refusal backs off
    # (not_before); OUTBOX_MAX_PUBLISH_ATTEMPTS of them park the row.
    refusals = models.PositiveIntegerField(default=0)
    parked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The relay's sweep: unpublished rows by due time.
            models.Index(
                fields=["not_before", "created_at"],
                name="outbox_unpublished_idx",
                condition=models.Q(published_at__isnull=True),
            ),
            models.Index(
                fields=["parked_at"],
                name="outbox_parked_idx",
                condition=models.Q(parked_at__isnull=False, published_at__isnull=True),
            ),
            # Pruning: published rows by age.
            models.Index(
                fields=["published_at"],
                name="outbox_published_idx",
                condition=models.Q(published_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.event} -> {self.task_name} ({self.id})"


class ProcessedMessage(models.Model):
    """Idempotency ledger: a (message, consumer) pair whose work has committed."""

    message_id = models.CharField(max_length=64)
    consumer = models.CharField(max_length=200)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message_id", "consumer"], name="processed_message_once"
            ),
        ]
        indexes = [models.Index(fields=["processed_at"], name="processed_message_at_idx")]

    def __str__(self):
        return f"{self.consumer}:{self.message_id}"


class DeliveryAttempt(models.Model):
    """How often a worker died holding a message, and the latest retry of it that started.

    Classic queues keep no redelivery count, and RabbitMQ's `redelivered` flag is also set
    after a broker restart, a consumer timeout or a requeue of our own: so `redeliveries`
    counts only lost workers, to bound a message that keeps killing its worker. The
    worker's main process counts a lost pool process (or a hard time limit); `holding`,
    committed when a copy starts and cleared when it ends without its work, counts a
    whole worker that died holding it (a hold whose work is not in the ledger).
    `retry_started` makes a retry run once even if it was scheduled twice (a worker lost
    between publishing the retry and acknowledging the attempt).
    """

    message_id = models.CharField(max_length=64)
    consumer = models.CharField(max_length=200)
    redeliveries = models.PositiveIntegerField(default=0)
    retry_started = models.PositiveIntegerField(default=0)
    holding = models.BooleanField(default=False, db_default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message_id", "consumer"], name="delivery_attempt_once"
            ),
        ]
        indexes = [models.Index(fields=["updated_at"], name="delivery_attempt_updated_idx")]

    def __str__(self):
        return f"{self.consumer}:{self.message_id} x{self.redeliveries}"


class MessageFailure(models.Model):
    """Why a message was dead-lettered: the reason the death record cannot carry."""

    message_id = models.CharField(max_length=64, db_index=True)
    consumer = models.CharField(max_length=200)
    queue = models.CharField(max_length=100)
    reason = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    correlation_id = models.CharField(max_length=100, blank=True)
    failed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-failed_at"]
        indexes = [models.Index(fields=["failed_at"], name="message_failure_failed_idx")]

    def __str__(self):
        return f"{self.consumer}:{self.message_id} failed"


class DeadLetterReplay(models.Model):
    """Audit of an operator's replay or purge of a dead letter."""

    class Action(models.TextChoices):
        REPLAY = "replay", "Replay"
        PURGE = "purge", "Purge"

    action = models.CharField(max_length=16, choices=Action.choices)
    message_id = models.CharField(max_length=64, db_index=True)
    queue = models.CharField(max_length=100)
    task_name = models.CharField(max_length=200, blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    performed_via = models.CharField(max_length=16)  # admin, api or cli
    performed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_at"]

    def __str__(self):
        return f"{self.action} {self.message_id} from {self.queue}"
