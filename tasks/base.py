"""The shared base task: every consumer in tasks/ inherits its delivery policy.

- late acks (celeryconfig), and in one transaction: the idempotency ledger + the work;
- transient errors (including a lost or deadlocked database connection) retry with
  exponential backoff and jitter, up to `max_retries`; the retry waits in a broker delay
  queue (celeryconfig.DELAY_QUEUES), never as an ETA message held by a worker, and keeps
  its message id; a retry scheduled twice runs once;
- permanent errors and exhausted retries are rejected without requeue, so the message
  dead-letters into `<queue>.dlq`, and `on_dead_letter` marks the domain record failed;
  if the reason cannot be recorded the message goes back to its queue instead;
- a message whose workers died holding it more than `max_redeliveries` times is
  dead-lettered too, so a poison message cannot loop forever; other redeliveries (a
  broker restart, a consumer timeout, a requeue of ours) count nothing, and a message
  whose work is already done is acknowledged, never dead-lettered;
- the events a consumer publishes inherit the urgency of the message it handles;
- a consumer receives its event decoded into its type (apps.messaging.contracts); a
  payload that does not match is dead-lettered at once, never retried, the reason naming
  the field that failed.
"""

import logging
import smtplib
import socket
import time

from celery import Task
from celery.exceptions import Reject, Retry, SoftTimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction

import celeryconfig
from apps.messaging.broker import unroutable_raises
from apps.messaging.contracts import EventContractError, event_decode
from apps.messaging.correlation import (
    CORRELATION_HEADER,
    reset_correlation_id,
    reset_urgency,
    set_correlation_id,
    set_urgency,
)
from apps.messaging.services import (
    delivery_attempt_hold,
    delivery_attempt_release,
    delivery_retry_start,
    message_failure_record,
    processed_message_record,
    processed_message_seen,
)

logger = logging.getLogger(__name__)

# A PostgreSQL restart, failover, dropped connection or deadlock: worth another try.
DATABASE_ERRORS = (OperationalError, InterfaceError)
# How long a worker waits before handing back a message it cannot settle (its failure
# cannot be recorded, its retry cannot be published), so that it does not spin on it.
REQUEUE_PAUSE_SECONDS = 2
# A copy that must not run (its work is done, or its retry already started).
SKIPPED = object()


def _typed_events(args):
    """The consumer's arguments with each event envelope decoded into its typed event
    (EventContractError when one does not match); beat's jobs take none."""
    return [event_decode(arg) if isinstance(arg, dict) and "event" in arg else arg for arg in args]


class ConsumerTask(Task):
    abstract = True
    # The worker's main process logs received/lost/retried under the correlation id.
    # It also counts a lost worker before the message is requeued.
    Request = "apps.messaging.worker:ConsumerRequest"
    # Errors worth another try; a consumer adds its own (e.g. a webhook's HTTP errors).
    transient_errors = (
        ConnectionError,
        TimeoutError,
        socket.timeout,
        smtplib.SMTPException,
        *DATABASE_ERRORS,
    )
    max_retries = 5
    retry_backoff_factor = 2
    retry_backoff_max = 300
    retry_jitter = True
    # The ledger row and the work commit together. A consumer that must commit a step
    # before an outside call, and whose work is idempotent by itself, turns this off:
    # its work then runs outside a transaction and the ledger row follows it.
    work_in_ledger_transaction = True

    @property
    def max_redeliveries(self):
        return settings.MESSAGE_MAX_REDELIVERIES

    def __call__(self, *args, **kwargs):
        token = set_correlation_id(self.request.get(CORRELATION_HEADER) or self.request.id)
        priority = (self.request.delivery_info or {}).get("priority")
        urgency_token = set_urgency(celeryconfig.urgency_for_priority(priority))
        try:
            return self._consume(args, kwargs)
        finally:
            reset_urgency(urgency_token)
            reset_correlation_id(token)

    def _consume(self, args, kwargs):
        redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
        try:
            done = self._consume_copy(args, kwargs, redelivered)
        except BaseException:
            self._release_hold()
            raise
        if done is SKIPPED:
            self._release_hold()
            return None
        return done

    def _release_hold(self):
        """This copy ends without its work and without its worker dying: its next copy
        must not count a lost worker (a finished copy's ledger row says so already)."""
        try:
            delivery_attempt_release(self.request.id, self.name)
        except DATABASE_ERRORS:
            # Its next redelivery may count one lost worker too many; the ledger still
            # keeps a message that is done from being dead-lettered.
            logger.exception("could not release message %s", self.request.id)
            close_old_connections()

    def _consume_copy(self, args, kwargs, redelivered):
        try:
            if not self._first_copy(args, kwargs, redelivered):
                return SKIPPED
            typed = _typed_events(args)
            if not self.work_in_ledger_transaction:
                return self._run_then_record(typed, kwargs)
            with transaction.atomic():
                if not processed_message_record(self.request.id, self.name):
                    logger.info("duplicate message %s for %s skipped", self.request.id, self.name)
                    return None
                return self.run(*typed, **kwargs)
        except (Reject, Retry):
            raise
        except EventContractError as exc:
            # It would fail the same way every time: dead-letter it now, naming the field.
            logger.error(
                "%s: message %s does not match its contract: %s", self.name, self.request.id, exc
            )
            self._dead_letter(args, kwargs, f"{type(exc).__name__}: {exc}")
        except (*self.transient_errors, SoftTimeLimitExceeded) as exc:
            if isinstance(exc, DATABASE_ERRORS):
                close_old_connections()  # the next attempt gets a fresh connection
            if self.request.retries < self.max_retries:
                self._retry_later(exc)
            self._dead_letter(args, kwargs, f"retries exhausted: {type(exc).__name__}: {exc}")
        except Exception as exc:
            logger.exception("permanent error in %s", self.name)
            self._dead_letter(args, kwargs, f"{type(exc).__name__}: {exc}")

    def _run_then_record(self, args, kwargs):
        if processed_message_seen(self.request.id, self.name):
            logger.info("duplicate message %s for %s skipped", self.request.id, self.name)
            return None
        result = self.run(*args, **kwargs)
        processed_message_record(self.request.id, self.name)
        return result

    def _first_copy(self, args, kwargs, redelivered):
        """Dead-letter a message whose workers died holding it too often; False for a copy
        that must not run: its work is done, or a retry that already started.

        Why a message was redelivered is not in the message: a lost worker, a broker
        restart, RabbitMQ's consumer timeout and our own requeues all set the flag. Lost
        workers are counted by the worker's main process (apps.messaging.worker), and by
        the hold each copy keeps until its work is done (a whole worker that died)."""
        message_id, retry = self.request.id, self.request.retries
        lost_workers = delivery_attempt_hold(message_id, self.name, redelivered=redelivered)
        if redelivered:
            if lost_workers > self.max_redeliveries:
                if processed_message_seen(message_id, self.name):
                    logger.info(
                        "message %s for %s is already done; acknowledged", message_id, self.name
                    )
                    return False
                self._dead_letter(
                    args, kwargs, f"redelivered {lost_workers} times after lost workers"
                )
        elif retry and not delivery_retry_start(message_id, self.name, retry):
            logger.info(
                "retry %d of message %s for %s already ran; skipped", retry, message_id, self.name
            )
            return False
        return True

    def retry_delay(self):
        """Seconds until the next retry: exponential backoff, with full jitter."""
        return get_exponential_backoff_interval(
            self.retry_backoff_factor,
            self.request.retries,
            self.retry_backoff_max,
            full_jitter=self.retry_jitter,
        )

    def _retry_later(self, exc):
        delay = celeryconfig.retry_delay_level(self.retry_delay())
        logger.warning("transient error in %s, retry in %ss: %r", self.name, delay, exc)
        self.on_retry_later(exc, delay)
        try:
            self._publish_retry(delay)
        except Exception as publish_exc:
            # No retry is waiting: let the broker redeliver this message instead.
            logger.exception("could not schedule the retry of %s", self.request.id)
            time.sleep(REQUEUE_PAUSE_SECONDS)
            raise Reject(f"retry not scheduled: {publish_exc!r}", requeue=True) from exc
        raise Retry(exc=exc, when=delay)

    def _publish_retry(self, delay):
        """Publish the next attempt (same message id, retries + 1) to the delay queue of
        `delay` seconds, whose TTL sends it back to the queue it came from (also for a
        replayed dead letter). Confirmed before this attempt is acknowledged."""
        request = self.request
        delivery_info = request.delivery_info or {}
        message = self.app.amqp.as_task_v2(
            request.id,
            self.name,
            args=request.args,
            kwargs=request.kwargs,
            retries=request.retries + 1,
            root_id=request.root_id,
            parent_id=request.parent_id,
        )
        # mandatory: a retry no delay queue takes comes back (raises) instead of being
        # confirmed and dropped while this attempt is acknowledged.
        with self.app.producer_or_acquire() as producer, unroutable_raises(producer.channel):
            self.app.amqp.send_task_message(
                producer,
                self.name,
                message,
                exchange=celeryconfig.DELAY_EXCHANGE.name,
                exchange_type=celeryconfig.DELAY_EXCHANGE.type,
                routing_key=delivery_info.get("routing_key"),
                declare=[],
                retry=False,
                timeout=settings.BROKER_PUBLISH_TIMEOUT,
                confirm_timeout=settings.BROKER_PUBLISH_TIMEOUT,
                priority=delivery_info.get("priority"),
                mandatory=True,
                headers={
                    CORRELATION_HEADER: request.get(CORRELATION_HEADER),
                    celeryconfig.RETRY_DELAY_HEADER: celeryconfig.delay_queue_name(delay),
                },
            )

    def _dead_letter(self, args, kwargs, reason):
        routing_key = (self.request.delivery_info or {}).get("routing_key", "")
        queue = celeryconfig.work_queue_of(routing_key)
        try:
            message_failure_record(
                message_id=self.request.id,
                consumer=self.name,
                queue=queue,
                reason=reason,
                attempts=self.request.retries + 1,
                correlation_id=self.request.get(CORRELATION_HEADER),
            )
        except DATABASE_ERRORS as exc:
            # A dead letter without its reason cannot be understood or safely replayed:
            # hand the message back to its queue and let the database come back.
            logger.error(
                "could not record why %s failed (%r); back to %s", self.request.id, exc, queue
            )
            close_old_connections()
            time.sleep(REQUEUE_PAUSE_SECONDS)
            raise Reject(reason, requeue=True) from exc
        self.on_dead_letter(reason, *args, **kwargs)
        raise Reject(reason, requeue=False)

    def on_retry_later(self, exc, delay):
        """Record a failed attempt that will be retried in `delay` seconds (override).

        Runs after the attempt's transaction rolled back."""

    def on_dead_letter(self, reason, *args, **kwargs):
        """Mark the domain record this message was about as failed (override)."""
