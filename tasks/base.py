"""The shared base task: every consumer in tasks/ inherits its delivery policy.

- late acks (celeryconfig), and in one transaction: the idempotency ledger + the work;
- transient errors retry with exponential backoff and jitter, up to `max_retries`;
- permanent errors and exhausted retries are rejected without requeue, so the message
  dead-letters into `<queue>.dlq`, and `on_dead_letter` marks the domain record failed;
- a message redelivered after its worker was lost more than `max_redeliveries` times
  is dead-lettered too, so a poison message cannot loop forever.
"""

import logging
import smtplib
import socket

from celery import Task
from celery.exceptions import Reject, Retry, SoftTimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import transaction

from apps.messaging.correlation import reset_correlation_id, set_correlation_id
from apps.messaging.publisher import CORRELATION_HEADER
from apps.messaging.services import (
    delivery_attempt_increment,
    message_failure_record,
    processed_message_record,
)

logger = logging.getLogger(__name__)


class ConsumerTask(Task):
    abstract = True
    # The worker's main process logs received/lost/retried under the correlation id.
    Request = "apps.messaging.correlation:CorrelatedRequest"
    # Errors worth another try; a consumer adds its own (e.g. a webhook's HTTP errors).
    transient_errors = (ConnectionError, TimeoutError, socket.timeout, smtplib.SMTPException)
    max_retries = 5
    retry_backoff_factor = 2
    retry_backoff_max = 300  # well under RabbitMQ's 30-minute consumer_timeout

    @property
    def max_redeliveries(self):
        return settings.MESSAGE_MAX_REDELIVERIES

    def __call__(self, *args, **kwargs):
        token = set_correlation_id(self.request.get(CORRELATION_HEADER) or self.request.id)
        try:
            return self._consume(args, kwargs)
        finally:
            reset_correlation_id(token)

    def _consume(self, args, kwargs):
        message_id = self.request.id
        if (self.request.delivery_info or {}).get("redelivered"):
            redeliveries = delivery_attempt_increment(message_id, self.name)
            if redeliveries > self.max_redeliveries:
                self._dead_letter(
                    args, kwargs, f"redelivered {redeliveries} times after lost workers"
                )
        try:
            with transaction.atomic():
                if not processed_message_record(message_id, self.name):
                    logger.info("duplicate message %s for %s skipped", message_id, self.name)
                    return None
                return self.run(*args, **kwargs)
        except (Reject, Retry):
            raise
        except (*self.transient_errors, SoftTimeLimitExceeded) as exc:
            if self.request.retries < self.max_retries:
                countdown = get_exponential_backoff_interval(
                    self.retry_backoff_factor,
                    self.request.retries,
                    self.retry_backoff_max,
                    full_jitter=True,
                )
                logger.warning("transient error in %s, retry in %ss: %r", self.name, countdown, exc)
                # Back to the queue it came from (also for a replayed dead letter).
                queue = (self.request.delivery_info or {}).get("routing_key")
                raise self.retry(exc=exc, countdown=countdown, queue=queue) from exc
            self._dead_letter(args, kwargs, f"retries exhausted: {type(exc).__name__}: {exc}")
        except Exception as exc:
            logger.exception("permanent error in %s", self.name)
            self._dead_letter(args, kwargs, f"{type(exc).__name__}: {exc}")

    def _dead_letter(self, args, kwargs, reason):
        queue = (self.request.delivery_info or {}).get("routing_key", "")
        message_failure_record(
            message_id=self.request.id,
            consumer=self.name,
            queue=queue,
            reason=reason,
            attempts=self.request.retries + 1,
            correlation_id=self.request.get(CORRELATION_HEADER),
        )
        self.on_dead_letter(reason, *args, **kwargs)
        raise Reject(reason, requeue=False)

    def on_dead_letter(self, reason, *args, **kwargs):
        """Mark the domain record this message was about as failed (override)."""
