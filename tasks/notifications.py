"""The notifications consumer: deliver one Notification by email, SMS or in-app."""

import logging

from celery import shared_task
from django.conf import settings

from apps.notifications.channels import TransientDeliveryError
from apps.notifications.services import (
    notification_attempt_failed,
    notification_deliver,
    notification_mark_failed,
)
from tasks.base import ConsumerTask

logger = logging.getLogger(__name__)


def _notification_id(envelope):
    try:
        return envelope["data"]["notification_id"]
    except (KeyError, TypeError):
        return None


class NotificationDeliveryTask(ConsumerTask):
    abstract = True
    # SMTP errors and connection errors come from the base; the SMS webhook's
    # 5xx/timeout/connection errors are TransientDeliveryError. Anything else
    # (a 4xx from the webhook, a missing notification, a bad template) dead-letters.
    transient_errors = (*ConsumerTask.transient_errors, TransientDeliveryError)
    # notification_deliver commits the attempt before calling the provider, and the
    # notification's own status makes it idempotent.
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

    def on_retry_later(self, exc, delay):
        # Record the failed attempt (and when the retry is due) in its own transaction.
        notification_id = _notification_id((self.request.args or [None])[0])
        if notification_id:
            try:
                notification_attempt_failed(
                    notification_id, f"{type(exc).__name__}: {exc}", retry_in=delay
                )
            except Exception:
                logger.exception("could not record failed attempt of %s", notification_id)

    def on_dead_letter(self, reason, *args, **kwargs):
        notification_id = _notification_id(args[0] if args else None)
        if notification_id:
            try:
                notification_mark_failed(notification_id, reason)
            except Exception:
                logger.exception("could not mark notification %s failed", notification_id)


@shared_task(bind=True, base=NotificationDeliveryTask, name="notifications.deliver")
def deliver(self, envelope):
    notification_deliver(envelope["data"]["notification_id"])
