"""Worker-side pieces that Celery loads by name from celeryconfig.py."""

import logging

from billiard.einfo import ExceptionWithTraceback
from celery.exceptions import InvalidTaskError, WorkerLostError
from celery.utils.time import maybe_iso8601
from celery.worker.consumer import Consumer
from django.db import close_old_connections
from kombu.exceptions import ContentDisallowed, DecodeError
from kombu.utils.encoding import safe_repr
from vine import promise

import celeryconfig
from apps.messaging.broker import TopologyMismatchError, topology_declare
from apps.messaging.correlation import CORRELATION_HEADER, CorrelatedRequest, correlation

logger = logging.getLogger(__name__)


def _body_size(message):
    body = message.body
    return len(body.encode("utf-8") if isinstance(body, str) else body or b"")


def _is_task_body(body):
    """Celery's message protocol 2 body: [args, kwargs, embed], with no workflow in the
    embed (our messages never carry callbacks or chains; a bad one fails after the work)."""
    return (
        isinstance(body, list)
        and len(body) == 3
        and isinstance(body[0], list)
        and isinstance(body[1], dict)
        and (body[2] is None or (isinstance(body[2], dict) and not any(body[2].values())))
    )


def _text(max_length=None):
    """Printable text (PostgreSQL stores no NUL) of up to max_length characters."""
    return lambda value: (
        isinstance(value, str)
        and 0 < len(value) <= (max_length or len(value))
        and value.isprintable()
    )


def _optional(check):
    return lambda value: value is None or check(value)


def _moment(value):
    try:
        return maybe_iso8601(value) is not None
    except (TypeError, ValueError, OverflowError):
        return False


def _within_time_limits(value):
    """[hard, soft] seconds no longer than the worker's own (Celery's send_task and beat
    send the task's configured limits): a message may not hold a worker longer."""
    limits = (celeryconfig.task_time_limit, celeryconfig.task_soft_time_limit)
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(
            seconds is None
            or (
                isinstance(seconds, int | float)
                and not isinstance(seconds, bool)
                and 0 < seconds <= limit
            )
            for seconds, limit in zip(value, limits, strict=True)
        )
    )


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# The headers Celery (and our base task) read from a task message, and what our own
# producers send in them (Celery's as_task_v2). Anything else is refused before Celery
# reads it: a value Celery cannot use fails inside its consumer or, worse, after the
# work. A message sets no ETA (delays go through the delay queues, never a worker holding
# a message past RabbitMQ's consumer_timeout) and no time limits beyond the worker's.
TASK_HEADERS = {
    "id": (_text(64), "a message id of 1 to 64 characters"),
    "task": (_text(200), "a task name"),
    "retries": (_optional(_count), "a count"),
    "eta": (lambda value: value is None, "absent: delays go through the delay queues"),
    "expires": (_optional(_moment), "an ISO 8601 date-time"),
    "timelimit": (
        lambda value: value is None or _within_time_limits(value),
        "[hard, soft] within the worker's own time limits",
    ),
    "root_id": (_optional(_text()), "a string"),
    "parent_id": (_optional(_text()), "a string"),
    "group": (_optional(_text()), "a string"),
    "group_index": (_optional(_count), "a count"),
    "shadow": (_optional(_text()), "a string"),
    "argsrepr": (_optional(lambda value: isinstance(value, str)), "a string"),
    "kwargsrepr": (_optional(lambda value: isinstance(value, str)), "a string"),
    "origin": (_optional(lambda value: isinstance(value, str)), "a string"),
    "ignore_result": (_optional(lambda value: isinstance(value, bool)), "a boolean"),
    "replaced_task_nesting": (_optional(_count), "a count"),
    "stamped_headers": (lambda value: not value, "absent: messages are not stamped"),
    "stamps": (lambda value: not value, "absent: messages are not stamped"),
    CORRELATION_HEADER: (_optional(_text(100)), "a correlation id of up to 100 characters"),
}
REQUIRED_HEADERS = ("id",)


def task_headers_problem(headers):
    """Why a task message's headers cannot be handed to Celery, or None."""
    for name in REQUIRED_HEADERS:
        if name not in headers:
            return f"no {name} header"
    for name, (valid, expected) in TASK_HEADERS.items():
        if name in headers and not valid(headers[name]):
            return f"header {name} must be {expected}, not {safe_repr(headers[name])[:200]}"
    return None


def _bounded_text(value, max_length):
    """A header value as text that fits its column (a hostile one may be anything)."""
    if value is None:
        return None
    text = value if isinstance(value, str) and value.isprintable() else safe_repr(value)
    return text[:max_length]


def task_name_problem(message):
    """Why the task name of a message cannot even be looked up, or None. Celery's
    consumer looks it up (in the header, or in a protocol 1 body) before any strategy
    runs and catches only KeyError: an unhashable name stopped the worker."""
    headers = message.headers if isinstance(message.headers, dict) else {}
    if "task" in headers:
        name = headers["task"]
    else:
        try:
            payload = message.decode()
        except Exception:  # Celery's own path dead-letters it as undecodable
            return None
        name = payload.get("task") if isinstance(payload, dict) else None
    if name is None or isinstance(name, str):
        return None
    return f"task name is not a string: {safe_repr(name)[:200]}"


def task_message_problem(message):
    """Why a message for a known task cannot be handed to it, or None.

    Checked in the consumer before Celery's strategy builds the request, since that
    raises (and kills the worker) on a body that is not [args, kwargs, embed].
    Decoding here costs nothing extra: the strategy decodes (and caches) the body too.
    """
    problem = task_headers_problem(message.headers)
    if problem:
        return problem
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
    undecodable or disallowed content, no task header, a task name that is not a string,
    an unknown task, headers Celery cannot use or we never send (an ETA, time limits),
    a body that is not Celery's [args, kwargs, embed], an oversized body. Whatever else
    raises between the frame and the pool dead-letters too. The worker keeps running.

    Celery's own consumer acknowledges (drops) undecodable messages, and a malformed
    body or task name raises out of it and stops the worker (docs/MESSAGING.md).
    It also declares the whole topology on every (re)connect, before consuming.
    """

    class Blueprint(Consumer.Blueprint):
        # Without Celery's native delayed delivery, which it adds when it sees quorum
        # queues (28 more queues, bindings on every work queue): messages carry no ETA
        # (TASK_HEADERS), retries wait in our own delay queues.
        default_steps = [
            step
            for step in Consumer.Blueprint.default_steps
            if step != "celery.worker.consumer.delayed_delivery:DelayedDelivery"
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A worker on a queue with an urgent lane (quorum queues) consumes the lane too,
        # on the same channel: `-Q repair_requests` is repair_requests and
        # repair_requests.urgent. Celery's per-consumer prefetch with quorum queues
        # keeps one lane message in hand whatever the backlog: it runs next.
        queues = self.app.amqp.queues
        for queue in list(queues.consume_from):
            if queue in celeryconfig.URGENT_LANES:
                queues.select_add(queues[celeryconfig.URGENT_LANES[queue]])

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

    def create_task_handler(self, promise=promise):
        on_task_received = super().create_task_handler(promise)

        def guarded_on_task_received(message):
            try:
                problem = task_name_problem(message)
                if problem:
                    return self._dead_letter(message, problem)
                return on_task_received(message)
            except self.connection_errors:
                raise
            except Exception as exc:
                if message.acknowledged:  # already settled: nothing left to dead-letter
                    logger.exception("error after message %r was settled", message)
                    return None
                logger.exception("message could not be handed to a task")
                return self._dead_letter(message, f"unreadable message: {exc!r}")

        return guarded_on_task_received

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
        from apps.messaging.deadletters import message_id_of
        from apps.messaging.services import message_failure_record

        headers = message.headers if isinstance(message.headers, dict) else {}
        queue = celeryconfig.work_queue_of((message.delivery_info or {}).get("routing_key", ""))
        logger.critical(
            "message dead-lettered unread: %s; queue=%s content_type=%r headers=%s body=%r",
            reason,
            queue,
            message.content_type,
            safe_repr(headers)[:1024],
            message.body[:256],
        )
        try:
            # This process's connection outlives PostgreSQL restarts and terminated
            # sessions: check it first (CONN_HEALTH_CHECKS), as before each task.
            close_old_connections()
            message_failure_record(
                message_id=message_id_of(message),
                consumer=_bounded_text(headers.get("task"), 200) or "-",
                queue=queue,
                reason=reason,
                attempts=1,
                correlation_id=_bounded_text(headers.get(CORRELATION_HEADER), 100),
            )
        except Exception:
            # The database is down: the message still must not kill or block the worker
            # (it dead-letters; the reason is in this log line).
            logger.exception("could not record why message was dead-lettered")
        message.reject_log_error(logger, self.connection_errors, requeue=False)


class ConsumerRequest(CorrelatedRequest):
    """A received task message, in the worker's main process: besides logging under its
    correlation id, it counts a worker that died holding the message (its pool process
    was lost, or killed at the hard time limit) before Celery requeues it. The base task
    dead-letters a message that did so more than MESSAGE_MAX_REDELIVERIES times."""

    _lost_worker_counted = False

    def on_failure(self, exc_info, *args, **kwargs):
        exc = exc_info.exception
        if isinstance(exc, ExceptionWithTraceback):  # as the pool hands it over
            exc = exc.exc
        if isinstance(exc, WorkerLostError):
            self._count_lost_worker()
        return super().on_failure(exc_info, *args, **kwargs)

    def on_timeout(self, soft, timeout):
        if not soft:
            self._count_lost_worker()
        return super().on_timeout(soft, timeout)

    def on_retry(self, exc_info):
        super().on_retry(exc_info)
        # Celery's own "retry" line is the pool process's, before this process has
        # acknowledged the attempt: from this line on the worker holds nothing of it
        # (its retry waits in a delay queue), so a worker killed now redelivers nothing.
        if self.acknowledged:
            with correlation(self._correlation_id, message=self._log_fields):
                logger.info(
                    "%s[%s] acknowledged; its retry waits in the broker", self.name, self.id
                )

    def _count_lost_worker(self):
        from apps.messaging.services import delivery_worker_lost

        if self._lost_worker_counted:  # a hard time limit also loses the pool process
            return
        self._lost_worker_counted = True
        try:
            close_old_connections()
            delivery_worker_lost(self.id, self.task.name)
        except Exception:
            # The database is down: this death goes uncounted (a poison message is
            # still bounded by the hold its redelivered copies keep).
            logger.exception("could not count the lost worker of message %s", self.id)
