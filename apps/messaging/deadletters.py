"""Dead-letter tools: list, inspect, replay and purge messages in `<queue>.dlq`.

The dead-letter queues are the truth; listing peeks (gets without acking, then closes
the channel so every message returns in order). The reason a consumer gave is joined
from MessageFailure, since a death record only says "rejected".
"""

import functools
import hashlib
import json
from datetime import datetime

from amqp.exceptions import AMQPError
from django.db import transaction
from kombu import Producer
from kombu.exceptions import OperationalError

import celeryconfig
from apps.core.errors import Conflict, NotFound, Unavailable
from apps.messaging.broker import UnroutableError, broker_connection, unroutable_raises
from apps.messaging.correlation import CORRELATION_HEADER
from apps.messaging.models import DeadLetterReplay, MessageFailure
from apps.messaging.services import delivery_attempts_reset

DEAD_LETTER_QUEUES = {q.name: q for q in celeryconfig.DEAD_LETTER_QUEUES}
# Headers the broker adds when it dead-letters (and a quorum queue's count of failed
# deliveries); a replayed message starts clean.
_DEATH_HEADERS = (
    "x-death",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-first-death-exchange",
    "x-delivery-count",
)


class DeadLetterError(NotFound, ValueError):
    """No such queue or dead letter (the API answers 404)."""


class DeadLetterUnroutableError(Conflict, DeadLetterError):
    """The original queue takes no messages (deleted): the dead letter stays (409)."""


class BrokerUnavailable(Unavailable, ConnectionError):
    """The broker could not be reached (the API answers 503 with `message`); str() is the
    broker's own error, for the operators of the admin and the CLI."""

    def __init__(self, cause):
        super().__init__("The message broker is unreachable; try again shortly.")
        self.cause = cause

    def __str__(self):
        return str(self.cause)


def _broker_reachable(function):
    @functools.wraps(function)
    def reaching(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except BrokerUnavailable:
            raise
        except (OperationalError, OSError, AMQPError) as exc:
            raise BrokerUnavailable(exc) from exc

    return reaching


def dead_letter_queue_names(queue=None):
    """The .dlq names to act on; `queue` may be a work queue or its .dlq."""
    if queue is None:
        return list(DEAD_LETTER_QUEUES)
    name = queue if queue.endswith(".dlq") else celeryconfig.dead_letter_queue_name(queue)
    if name not in DEAD_LETTER_QUEUES:
        known = ", ".join(celeryconfig.WORK_QUEUE_NAMES)
        raise DeadLetterError(f"unknown queue {queue!r}; known queues: {known}")
    return [name]


def _body_bytes(message):
    # py-amqp hands text bodies over already decoded.
    body = message.body
    return body.encode("utf-8", errors="replace") if isinstance(body, str) else body


def _usable_id(value):
    # PostgreSQL text holds no NUL; our own ids are UUIDs.
    return (
        value if isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable() else None
    )


def message_id_of(message):
    """The message's id; for a message without a usable one (any client can publish
    anything), a digest of its body, so that its failure record can still be joined."""
    headers = message.headers if isinstance(message.headers, dict) else {}
    return (
        _usable_id(headers.get("id"))
        or _usable_id(message.properties.get("message_id"))
        or hashlib.sha1(_body_bytes(message)).hexdigest()[:32]
    )


def _payload(message):
    body = _body_bytes(message)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body.decode("utf-8", errors="replace")


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _describe(dlq_name, message, failures):
    headers = message.headers or {}
    deaths = headers.get("x-death") or []
    first_death = deaths[-1] if deaths else {}
    message_id = message_id_of(message)
    failure = failures.get(message_id)
    # Each work queue dead-letters into its own .dlq; the first death may be a retry's
    # expiry in a delay queue, so the .dlq's name, not x-first-death-queue, is the truth.
    original_queue = dlq_name.removesuffix(".dlq")
    last_death = deaths[0] if deaths else {}
    if failure:
        reason = failure.reason
    elif last_death.get("reason") == "expired":
        # Its expiration property (which our producers never set) ran out in the queue.
        reason = f"expired in {last_death.get('queue')} before a worker took it"
    elif last_death.get("reason") == "delivery_limit":
        # A quorum queue's backstop: every worker that held it died before counting it.
        reason = (
            f"returned unacknowledged more than {celeryconfig.QUORUM_DELIVERY_LIMIT} times "
            f"in {last_death.get('queue')} (the broker's delivery limit)"
        )
    elif message.content_type not in ("application/json", None):
        reason = f"rejected: content type {message.content_type!r} is not accepted"
    else:
        reason = (
            f"{headers.get('x-first-death-reason', 'rejected')}: undecodable or invalid message"
        )
    return {
        "message_id": message_id,
        "queue": original_queue,
        "dead_letter_queue": dlq_name,
        "task": headers.get("task"),
        "reason": reason,
        "first_death_at": _jsonable(first_death.get("time")),
        "death_count": sum(int(d.get("count", 1)) for d in deaths),
        "attempts": failure.attempts if failure else None,
        "correlation_id": headers.get(CORRELATION_HEADER),
        "payload": _jsonable(_payload(message)),
    }


def _stream(channel, dlq_name, limit=None):
    """The dead letters of one queue, one at a time, each left unacked (so it stays in
    the queue) unless the caller acks it; only the current one is held in memory."""
    taken = 0
    while limit is None or taken < limit:
        # Not kombu's Queue.get: it raises on a body that does not decompress, and any
        # client can publish one (tests/messaging/test_amqp_fuzz.py).
        raw = channel.basic_get(queue=dlq_name, no_ack=False)
        if raw is None:
            return
        taken += 1
        yield channel.message_to_python(raw)


def _take(channel, dlq_name, limit):
    return list(_stream(channel, dlq_name, limit))


@_broker_reachable
def dead_letters_list(queue=None, *, message_id=None, limit=200):
    """Describe dead letters (all queues, one queue, or one message) without removing any."""
    results = []
    with broker_connection() as connection:
        for dlq_name in dead_letter_queue_names(queue):
            channel = connection.channel()
            try:
                messages = _take(channel, dlq_name, limit)
                ids = [message_id_of(m) for m in messages]
                failures = {}
                for failure in MessageFailure.objects.filter(message_id__in=ids).order_by(
                    "failed_at"
                ):
                    failures[failure.message_id] = failure  # the latest failure wins
                results.extend(
                    _describe(dlq_name, m, failures)
                    for m in messages
                    if message_id is None or message_id_of(m) == message_id
                )
            finally:
                channel.close()  # returns every unacked message to its queue, in order
    return results


@_broker_reachable
def _settle(queue, message_id, *, replay, user, via):
    if message_id is None:
        raise DeadLetterError("name a message id, or choose all")
    if message_id == "*":
        message_id = None
    done = []
    with broker_connection() as connection, broker_connection(confirm_publish=True) as confirming:
        producer = Producer(confirming.default_channel, auto_declare=False)
        for dlq_name in dead_letter_queue_names(queue):
            channel = connection.channel()
            try:
                # Streamed: replaying one message reads up to it, not the whole queue;
                # and no further than the depth at the start, so that messages which
                # die again while we replay are not taken round a second time.
                _, depth, _ = channel.queue_declare(queue=dlq_name, passive=True)
                for message in _stream(channel, dlq_name, limit=depth):
                    this_id = message_id_of(message)
                    if message_id is not None and this_id != message_id:
                        continue
                    original_queue = dlq_name.removesuffix(".dlq")
                    if replay:
                        try:
                            _republish(producer, message, original_queue)
                        except UnroutableError as exc:
                            raise DeadLetterUnroutableError(
                                f"{this_id} not replayed, it stays in {dlq_name}: {exc}; "
                                "is the queue declared? (`manage.py broker declare`)"
                            ) from exc
                        delivery_attempts_reset(this_id)
                    with transaction.atomic():
                        DeadLetterReplay.objects.create(
                            action=DeadLetterReplay.Action.REPLAY
                            if replay
                            else DeadLetterReplay.Action.PURGE,
                            message_id=this_id,
                            queue=original_queue,
                            task_name=(message.headers or {}).get("task") or "",
                            performed_by=user,
                            performed_via=via,
                        )
                    # Acked only after the replay was confirmed: a crash in between
                    # leaves a duplicate, which the consumer's ledger skips.
                    message.ack()
                    done.append(this_id)
                    if message_id is not None:
                        break
            finally:
                channel.close()
            if message_id is not None and done:
                break
    if message_id is not None and not done:
        raise DeadLetterError(f"no dead letter {message_id!r} in {queue or 'any queue'}")
    return done


def _republish(producer, message, original_queue):
    headers = {k: v for k, v in (message.headers or {}).items() if k not in _DEATH_HEADERS}
    if "retries" in headers:
        headers["retries"] = 0
    properties = message.properties
    with unroutable_raises(producer.channel):
        producer.publish(
            message.body,
            exchange=celeryconfig.WORK_EXCHANGE.name,
            # An urgent one goes back to its queue's urgent lane (quorum queues).
            routing_key=celeryconfig.routing_key_for(original_queue, properties.get("priority")),
            headers=headers,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            priority=properties.get("priority"),
            correlation_id=properties.get("correlation_id"),
            delivery_mode=2,
            # A message for no queue comes back instead of being confirmed and lost.
            mandatory=True,
            retry=False,
        )


def dead_letter_replay(queue, message_id, *, user=None, via="cli"):
    """Send dead letters back to their original queue with the same message id."""
    return _settle(queue, message_id, replay=True, user=user, via=via)


def dead_letter_purge(queue, message_id, *, user=None, via="cli"):
    """Delete dead letters for good (recorded in the audit log)."""
    return _settle(queue, message_id, replay=False, user=user, via=via)
