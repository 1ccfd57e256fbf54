"""The notifications consumers: deliver a batch of Notifications of one channel (email,
SMS or in-app), each channel on its own queue and workers; and single notifications
queued before batches (`notifications.deliver`)."""

import logging

from django.conf import settings

from apps.messaging.consumers import Consumer
from apps.messaging.contracts import EventContractError, event_decode
from apps.notifications.channels import PermanentDeliveryError, TransientDeliveryError
from apps.notifications.events import NotificationRequested
from apps.notifications.services import (
    notifications_attempt_failed,
    notifications_deliver,
    notifications_mark_failed,
)
from tasks.base import ConsumerTask

logger = logging.getLogger(__name__)

# A bulkhead per channel: a slow SMS provider holds up only its own queue and workers.
# The email workers also drain `notifications`: single notifications (`notifications.deliver`)
# queued or written to the outbox before per-channel delivery.
email_channel = Consumer(
    "notifications_email", queues=["notifications_email", "notifications"], priority=True
)
sms_channel = Consumer("notifications_sms", queues=["notifications_sms"], priority=True)
in_app_channel = Consumer(
    "notifications_in_app", queues=["notifications_in_app"], priority=True, concurrency=1
)


def _notification_ids(event):
    """The ids an event carries: a batch's, or one from before batches."""
    if isinstance(event, NotificationRequested):
        return [event.notification_id]
    return event.notification_ids


def _notification_ids_or_none(envelope):
    """The ids of the raw message being retried or dead-lettered; none if it does not
    match its contract."""
    try:
        return _notification_ids(event_decode(envelope))
    except EventContractError:
        return []


def _first_failure(failures):
    """The error the batch is retried or dead-lettered for: one worth a retry if any."""
    errors = list(failures.values())
    return next((e for e in errors if not isinstance(e, PermanentDeliveryError)), errors[0])


class NotificationDeliveryTask(ConsumerTask):
    abstract = True
    # SMTP errors and connection errors come from the base; the SMS webhook's
    # 5xx/timeout/connection errors are TransientDeliveryError. Anything else
    # (a 4xx from the webhook, a bad template) dead-letters the message.
    transient_errors = (*ConsumerTask.transient_errors, TransientDeliveryError)
    # notifications_deliver commits each attempt before calling the provider, and the
    # notifications' own statuses make it idempotent.
    work_in_ledger_transaction = False

    # The retry policy comes from settings so that tests (and ops) can tune it.
    @property
    def max_retries(self):
        return settings.NOTIFICATION_MAX_RETRIES

    @property
    def retry_backoff_factor(self):
        return settings.NOTIFICATION_RETRY_BACKOFF

    @property
    def retry_backoff_max(self):
        return settings.NOTIFICATION_RETRY_BACKOFF_MAX

    # None: the workers' task_soft_time_limit. At it a batch stops and re-queues its rest.
    @property
    def soft_time_limit(self):
        return settings.NOTIFICATION_SOFT_TIME_LIMIT

    def _failures(self, exc):
        """{id: error} of this attempt: each notification's own, else `exc` for all (the
        services never reset one whose attempt has no recorded outcome)."""
        failures = getattr(self.request, "delivery_failures", None)
        if failures:
            return failures
        ids = _notification_ids_or_none((self.request.args or [None])[0])
        return dict.fromkeys(ids, exc)

    def on_retry_later(self, exc, delay):
        # Record the failed attempts (and when the retry is due) in their own transaction.
        try:
            notifications_attempt_failed(
                {i: f"{type(e).__name__}: {e}" for i, e in self._failures(exc).items()},
                retry_in=delay,
            )
        except Exception:
            logger.exception("could not record the failed attempts of %s", self.request.id)

    def on_dead_letter(self, reason, *args, **kwargs):
        failures = getattr(self.request, "delivery_failures", None)
        if failures:  # each failed notification with its own error; the sent stay sent
            exhausted = "retries exhausted: " if reason.startswith("retries exhausted") else ""
            reasons = {i: f"{exhausted}{type(e).__name__}: {e}" for i, e in failures.items()}
        else:
            reasons = dict.fromkeys(_notification_ids_or_none(args[0] if args else None), reason)
        try:
            notifications_mark_failed(reasons)
        except Exception:
            logger.exception("could not mark the notifications of %s failed", self.request.id)


def _deliver(self, event):
    # resend: an operator's (or an emergency's) resend of notifications of unknown outcome.
    resend = getattr(event, "resend", False)
    failures = notifications_deliver(_notification_ids(event), resend=resend)
    if failures:
        # The sent ones are recorded; a retry (or a replay) sends only the others.
        self.request.delivery_failures = failures
        raise _first_failure(failures)


# NotificationBatchRequested: one consumer per channel queue.
deliver_email_batch = email_channel.task(
    "notifications.deliver_email_batch",
    subscribes=["notification.email_batch_requested"],
    base=NotificationDeliveryTask,
)(_deliver)
deliver_sms_batch = sms_channel.task(
    "notifications.deliver_sms_batch",
    subscribes=["notification.sms_batch_requested"],
    base=NotificationDeliveryTask,
)(_deliver)
deliver_in_app_batch = in_app_channel.task(
    "notifications.deliver_in_app_batch",
    subscribes=["notification.in_app_batch_requested"],
    base=NotificationDeliveryTask,
)(_deliver)
# NotificationRequested: messages queued before batches, drained from `notifications`.
deliver = email_channel.task(
    "notifications.deliver", queue="notifications", base=NotificationDeliveryTask
)(_deliver)
