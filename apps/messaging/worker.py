"""Worker-side pieces that Celery loads by name from celeryconfig.py."""

import logging

from celery.exceptions import InvalidTaskError
from celery.worker.consumer import Consumer
from django.db import close_old_connections
from kombu.exceptions import ContentDisallowed, DecodeError
from kombu.utils.encoding import safe_repr

import celeryconfig
from apps.messaging.broker import TopologyMismatchError, topology_declare

logger = logging.getLogger(__name__)


def _body_size(message):
    body = message.body
    return len(body.encode("utf-8") if isinstance(body, str) else body or b"")


def _is_task_body(body):
    """Celery's message protocol 2 body: [args, kwargs, embed]."""
    return (
        isinstance(body, list)
        and len(body) == 3
        and isinstance(body[0], list)
        and isinstance(body[1], dict)
        and isinstance(body[2], dict | None)
    )


def task_message_problem(message):
    """Why a message for a known task cannot be handed to it, or None.

    Checked in the consumer before Celery's strategy builds the request, since that
    raises (and kills the worker) on a body that is not [args, kwargs, embed].
    Decoding here costs nothing extra: the strategy decodes (and caches) the body too.
    """
    size = _body_size(message)
    if size > celeryconfig.MESSAGE_MAX_BYTES:
        return f"body of {size} bytes exceeds {celeryconfig.MESSAGE_MAX_BYTES}"
    body = message.payload  # raises DecodeError / ContentDisallowed, handled by Celery
    if not _is_task_body(body):
        return f"body is not [args, kwargs, embed]: {safe_repr(body)[:200]}"
    return None


def database_connection_refresh(sender=None, **kwargs):
    """Before each task, what Django does before each request: replace a connection that
    is broken or older than CONN_MAX_AGE (CONN_HEALTH_CHECKS), keep a healthy one.

    Celery's Django fixup would instead close it after every task, so each message paid
    for a new PostgreSQL connection (28% of a reporting pool child's samples, py-spy);
    CELERY_DB_REUSE_MAX in celeryconfig.py turns that off.
    """
    if not getattr(sender.request, "is_eager", False):
        close_old_connections()


class DeadLetteringConsumer(Consumer):
    """Dead-letters, with a recorded reason, every message it cannot hand to a task:
    undecodable or disallowed content, no task header, an unknown task, a body that is
    not Celery's [args, kwargs, embed], an oversized body. The worker keeps running.

    Celery's own consumer acknowledges (drops) undecodable messages, and a malformed
    body raises out of its strategy and stops the worker (docs/MESSAGING.md).
    It also declares the whole topology on every (re)connect, before consuming.
    """

    def connect(self):
        connection = super().connect()
        try:
            topology_declare(connection)
        except TopologyMismatchError as exc:
            # Refuse to start rather than consume from a queue whose dead-lettering or
            # priority is not what celeryconfig.py says.
            logger.critical("refusing to start: %s", exc)
            raise SystemExit(f"refusing to start: {exc}") from exc
        return connection

    def connection_for_write(self, url=None, heartbeat=None):
        """The connection of the worker's task events (Celery's only use of it). Events
        are for watching, sent transient: a publisher confirm per event, which
        broker_transport_options asks for every Celery publish, kept the worker's event
        loop waiting three round trips per task (53% of a pool's main process, py-spy).
        A task's retry is still published confirmed, on the app's producer pool."""
        connection = self.app.connection_for_write(
            url=url, heartbeat=heartbeat, transport_options={"confirm_publish": False}
        )
        return self.ensure_connected(connection)

    def update_strategies(self):
        super().update_strategies()
        for name, strategy in list(self.strategies.items()):
            self.strategies[name] = self._checked(strategy)

    def _checked(self, strategy):
        def checked_strategy(message, body, *args, **kwargs):
            problem = task_message_problem(message)
            if problem:
                raise InvalidTaskError(problem)
            try:
                return strategy(message, body, *args, **kwargs)
            except (InvalidTaskError, ContentDisallowed, DecodeError):
                raise
            except self.connection_errors:
                raise
            except Exception as exc:  # a header Celery cannot read (eta, expires...)
                raise InvalidTaskError(f"{type(exc).__name__}: {exc}") from exc

        return checked_strategy

    def on_decode_error(self, message, exc):
        self._dead_letter(message, f"undecodable body: {exc}")

    def on_unknown_message(self, body, message):
        self._dead_letter(message, "not a task message: no task header")

    def on_unknown_task(self, body, message, exc):
        self._dead_letter(message, f"unknown task {safe_repr(message.headers.get('task'))}")

    def on_invalid_task(self, body, message, exc):
        if isinstance(exc, ContentDisallowed):
            reason = f"content type {message.content_type!r} is not accepted"
        else:
            reason = f"invalid task message: {exc}"
        self._dead_letter(message, reason)

    def _dead_letter(self, message, reason):
        # Imported late: the worker's consumer class is loaded before Django is set up.
        from apps.messaging.correlation import CORRELATION_HEADER
        from apps.messaging.deadletters import message_id_of
        from apps.messaging.services import message_failure_record

        headers = message.headers if isinstance(message.headers, dict) else {}
        queue = (message.delivery_info or {}).get("routing_key", "")
        logger.critical(
            "message dead-lettered unread: %s; queue=%s content_type=%r headers=%s body=%r",
            reason,
            queue,
            message.content_type,
            safe_repr(headers)[:1024],
            message.body[:256],
        )
        try:
            message_failure_record(
                message_id=message_id_of(message),
                consumer=str(headers.get("task") or "-")[:200],
                queue=queue,
                reason=reason,
                attempts=1,
                correlation_id=headers.get(CORRELATION_HEADER),
            )
        except Exception:
            # The database is down: the message still must not kill or block the worker
            # (it dead-letters; the reason is in this log line).
            logger.exception("could not record why message was dead-lettered")
        message.reject_log_error(logger, self.connection_errors, requeue=False)
