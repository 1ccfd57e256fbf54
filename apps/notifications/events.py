"""Events the notifications app publishes (the only place it calls publish())."""

from dataclasses import dataclass

from apps.messaging.contracts import Event, event_named
from apps.messaging.publisher import publish
from apps.notifications.models import Channel


@dataclass(frozen=True)
class NotificationBatchRequested(Event):
    """Deliver these notifications (at most NOTIFICATION_BATCH_SIZE, all of one channel):
    each channel's event goes to that channel's batch consumer on its own queue.
    `resend`: an operator's (or an emergency's) resend of ones of unknown outcome."""

    notification_ids: list[str]
    resend: bool = False


EmailBatchRequested = event_named(
    "EmailBatchRequested", NotificationBatchRequested, "notification.email_batch_requested"
)
SmsBatchRequested = event_named(
    "SmsBatchRequested", NotificationBatchRequested, "notification.sms_batch_requested"
)
InAppBatchRequested = event_named(
    "InAppBatchRequested", NotificationBatchRequested, "notification.in_app_batch_requested"
)


@dataclass(frozen=True)
class NotificationRequested(Event):
    """One notification, from before batches: still drained by notifications.deliver."""

    NAME = "notification.requested"
    RETIRED = True
    notification_id: str


BATCH_REQUESTED = {
    Channel.EMAIL: EmailBatchRequested,
    Channel.SMS: SmsBatchRequested,
    Channel.IN_APP: InAppBatchRequested,
}


def notification_batch_requested(channel, ids, *, resend=False, urgency=None, not_before=None):
    """Call inside the transaction that stored the notifications (or their resend)."""
    event = BATCH_REQUESTED[channel](notification_ids=list(ids), resend=resend)
    return publish(event, urgency=urgency, not_before=not_before)
