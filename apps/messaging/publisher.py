"""The transactional outbox: `publish` writes rows in the caller's transaction, whose
insert NOTIFYs on commit; the relay (`manage.py outbox_relay`), woken by that, sends the
rows to the broker with publisher confirms and marks them published only once
confirmed. No request or consumer waits for the broker.
"""

import collections
import contextlib
import dataclasses
import datetime
import json
import logging
import threading
import time
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from kombu import Connection, Producer

import celeryconfig
from apps.messaging.broker import connect_first_answering
from apps.messaging.contracts import EventContractError, event_encode
from apps.messaging.correlation import (
    CORRELATION_HEADER,
    current_or_new_correlation_id,
    get_urgency,
)
from apps.messaging.models import OutboxMessage

logger = logging.getLogger(__name__)


class UnknownEventError(ValueError):
    pass


class EventPayloadError(TypeError):
    pass


def publish(event, *, urgency=None, not_before=None):
    """Write one outbox row per consumer subscribed to `event` (an
    apps.messaging.contracts.Event); touch no broker.

    Call it inside the transaction that made the change: if that rolls back, nothing is
    published. The insert NOTIFYs the relay (a trigger), which PostgreSQL delivers on
    commit, once per transaction however many events it publishes. Raises at once
    for an unknown event or urgency, or an event whose fields do not match its type.
    `urgency` ("low", "normal", "urgent") defaults to that of the message being
    consumed (so an urgent repair's notifications are urgent), else normal; celeryconfig
    maps it to a priority on the queues of priority services, and the relay sends an
    urgent one to its queue's urgent lane where there is one (quorum queues:
    `celeryconfig.routing_key_for`). The envelope carries the event's name and version,
    the time, and its fields (`data`).
    """
    priority = celeryconfig.priority_for_urgency(urgency or get_urgency())
    event_name = getattr(event, "NAME", None)
    try:
        subscribers = celeryconfig.EVENT_SUBSCRIPTIONS[event_name]
    except (KeyError, TypeError):
        raise UnknownEventError(f"unknown event {event_name!r}") from None
    try:
        data = event_encode(event)
    except (TypeError, EventContractError) as exc:
        raise EventPayloadError(f"event {event_name!r} does not match its type: {exc}") from exc
    envelope = {
        "event": event_name,
        "version": event.VERSION,
        "occurred_at": timezone.now().isoformat(),
        "data": data,
    }
    correlation_id = current_or_new_correlation_id()
    rows = []
    for task_name in subscribers:
        queue = celeryconfig.TASK_QUEUES[task_name]
        rows.append(
            OutboxMessage(
                event=event_name,
                task_name=task_name,
                queue=queue,
                payload=[envelope],
                priority=priority if queue in celeryconfig.PRIORITY_QUEUES else None,
                correlation_id=correlation_id,
                not_before=not_before,
            )
        )
    OutboxMessage.objects.bulk_create(rows)
    return rows


def _refusal_backoff(refusals):
    """Seconds before a refused row is tried again: 2, 4, 8 ... capped at a minute."""
    return min(2**refusals, 60)


_FIELDS = OutboxMessage._meta.concrete_fields
_TABLE = OutboxMessage._meta.db_table
# The relay's lock and fetch, as written SQL: the ORM built and compiled this query
# anew for every sweep (about 0.4 ms of CPU, as much as publishing three rows).
# Unpublished, unparked rows whose time has come (delayed or backing off), oldest
# first: the partial index outbox_unpublished_idx.
_DUE_SQL = (
    f"SELECT {', '.join(field.column for field in _FIELDS)} FROM {_TABLE} "
    "WHERE published_at IS NULL AND parked_at IS NULL "
    "AND (not_before IS NULL OR not_before <= %s) {only} "
    "ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED"
)
_ATTNAMES = [field.attname for field in _FIELDS]
_PAYLOAD = _ATTNAMES.index("payload")


def _due_rows_lock(now, ids, limit):
    only = "AND id = ANY(%s::uuid[])" if ids is not None else ""
    params = [now, *([list(ids)] if ids is not None else []), limit]
    with connection.cursor() as cursor:
        cursor.execute(_DUE_SQL.format(only=only), params)
        fetched = cursor.fetchall()
    rows = []
    for values in fetched:
        values = list(values)
        values[_PAYLOAD] = json.loads(values[_PAYLOAD])  # psycopg2 leaves jsonb as text
        rows.append(OutboxMessage.from_db(connection.alias, _ATTNAMES, values))
    return rows


@dataclasses.dataclass
class Sweep:
    """What one sweep did: rows `published` (confirmed), and whether rows may be due
    that it did not settle (`more`: its batch was full, or the broker confirmed or
    refused only some), so the relay sweeps again at once instead of waiting."""

    published: int
    more: bool


def outbox_publish_due(*, ids=None, limit=None):
    """Publish unpublished, due outbox rows (optionally only `ids`); return how many."""
    return outbox_sweep(ids=ids, limit=limit).published


def outbox_sweep(*, ids=None, limit=None):
    """Publish unpublished, due outbox rows (optionally only `ids`); return a Sweep.

    Rows are locked with SKIP LOCKED, so several relays never publish the same row at
    the same moment. Each row is settled on its own: confirmed rows are marked
    published even when others in the batch fail; a row the broker
    refuses (returned as unroutable, nacked, a channel error) waits with backoff and is
    parked after OUTBOX_MAX_PUBLISH_ATTEMPTS refusals. A broker failure (unreachable,
    timed out) leaves the rest waiting and is raised once the batch is recorded.
    """
    limit = limit or settings.OUTBOX_RELAY_BATCH
    with transaction.atomic():
        rows = _due_rows_lock(timezone.now(), ids, limit)
        if not rows:
            return Sweep(published=0, more=False)
        outcome = _publisher().publish(rows)
        _outcome_record(rows, outcome)
    if outcome.error is not None and not outcome.confirmed:
        raise outcome.error
    # A slow broker: what was confirmed is recorded and the relay sweeps on at once.
    settled = len(outcome.confirmed) + len(outcome.refused)
    return Sweep(published=len(outcome.confirmed), more=len(rows) == limit or settled < len(rows))


def _outcome_record(rows, outcome):
    now = timezone.now()
    if outcome.confirmed:
        # Written SQL, as the lock and fetch: one statement, compiled once.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_TABLE} SET published_at = %s, "
                "publish_attempts = publish_attempts + 1, last_error = '' WHERE id = ANY(%s)",
                [now, list(outcome.confirmed)],
            )
    max_refusals = settings.OUTBOX_MAX_PUBLISH_ATTEMPTS
    for row in rows:
        reason = outcome.refused.get(row.id)
        if reason is None:
            continue
        refusals = row.refusals + 1
        parked = refusals >= max_refusals
        OutboxMessage.objects.filter(id=row.id).update(
            publish_attempts=F("publish_attempts") + 1,
            refusals=refusals,
            last_error=reason[:2000],
            not_before=now + datetime.timedelta(seconds=_refusal_backoff(refusals)),
            parked_at=now if parked else None,
        )
        log = logger.error if parked else logger.warning
        log(
            "outbox row %s (%s -> %s) refused by the broker%s: %s",
            row.id,
            row.task_name,
            row.queue,
            f", parked after {refusals} refusals" if parked else "",
            reason,
        )
    settled = outcome.confirmed | outcome.refused.keys() | outcome.unsent
    waiting = [row.id for row in rows if row.id not in settled]
    if waiting:
        OutboxMessage.objects.filter(id__in=waiting).update(
            publish_attempts=F("publish_attempts") + 1,
            last_error=repr(outcome.error)[:2000]
            if outcome.error
            else "not confirmed by the broker",
        )


@dataclasses.dataclass
class PublishOutcome:
    """What became of a batch: `confirmed` row ids, `refused` {row id: reason} for rows
    the broker would not take (`returned`: those it returned as unroutable), `unsent`
    rows the sweep had no time left for, and the broker `error` that left the others
    waiting."""

    confirmed: set = dataclasses.field(default_factory=set)
    refused: dict = dataclasses.field(default_factory=dict)
    returned: set = dataclasses.field(default_factory=set)
    unsent: set = dataclasses.field(default_factory=set)
    error: Exception | None = None


class BrokerBlockedError(ConnectionError):
    """RabbitMQ blocks publishing on the connection (a memory or disk alarm)."""


# Confirms a batch keeps outstanding at most: enough for full speed here (waiting for
# each in turn is 15x slower), few enough that a broker that is slow confirms them
# within a sweep; a sweep that runs out of time halves it.
CONFIRM_WINDOW = 200


class _ChannelConfirms:
    """Confirms of one confirm-mode channel. Delivery tags count from 1 on each new
    channel, so a new channel gets a new instance, and the callbacks of an old channel
    can never touch it. `multiple=True` settles every outstanding tag up to the one
    given: tags are popped from the front of an ordered map, constant time per message."""

    def __init__(self):
        self.next_tag = 0
        self.outstanding = collections.OrderedDict()  # tag -> row id, tags ascending
        self.acked, self.nacked = set(), set()
        self.returned = {}  # row id -> reason; a return comes before the ack

    def sent(self, row_id):
        self.next_tag += 1
        self.outstanding[self.next_tag] = row_id

    def on_ack(self, delivery_tag, multiple):
        self._settle(self.acked, delivery_tag, multiple)

    def on_nack(self, delivery_tag, multiple):
        self._settle(self.nacked, delivery_tag, multiple)

    def _settle(self, into, delivery_tag, multiple):
        if not multiple:
            row_id = self.outstanding.pop(delivery_tag, None)
            if row_id is not None:
                into.add(row_id)
            return
        while self.outstanding:
            tag = next(iter(self.outstanding))
            if tag > delivery_tag:
                break
            into.add(self.outstanding.pop(tag))

    def on_return(self, exc, exchange, routing_key, message):
        row_id = message.properties.get("correlation_id")  # Celery's: the task id
        if row_id:
            self.returned[uuid.UUID(str(row_id))] = (
                f"returned by the broker: {getattr(exc, 'reply_text', exc)} "
                f"(exchange {exchange!r}, routing key {routing_key!r}); is the queue declared?"
            )

    def settled(self):
        return not self.outstanding


class ConfirmingPublisher:
    """Publishes a batch on one confirm-mode channel with `mandatory`, keeping up to a
    window of confirms outstanding (waiting for each confirm in turn cut throughput
    about 15x here) and reading them while it sends, so that a slow broker still gets
    the rows it could confirm marked, sweep after sweep.

    Every wait on the broker (connect, declare, confirm_select, publish, the confirm
    wait, close) ends within `timeout` seconds of the call. Sending stops at half of
    it, leaving the rest for the confirms. A sweep that ran out of time halves the
    window (what it sent and could not see confirmed is sent again); one whose sends
    were all confirmed in time doubles it back, up to `window`.
    """

    def __init__(self, broker_url, timeout, window=CONFIRM_WINDOW):
        self.broker_url = broker_url
        self.timeout = timeout
        self.max_window = self.window = window
        self._connection = None
        self._channel = None
        self._confirms = None
        self._deadline = None
        self._blocked = None  # the broker's reason while it blocks publishing

    # --- time ------------------------------------------------------------------------
    def _remaining(self):
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"broker did not answer within {self.timeout}s")
        return remaining

    def _bound(self):
        """Make the next blocking socket operation end by the deadline."""
        self._connection.connection.transport.sock.settimeout(self._remaining())

    def _wait_until(self, done):
        """Read what the broker sends (confirms, returns, blocked/unblocked) until
        `done()`; TimeoutError at the deadline."""
        while not done():
            self._connection.drain_events(timeout=self._remaining())

    # --- connection and channel -----------------------------------------------------
    def _connect(self):
        from propmgmt.celery import app

        timeout = self._remaining()
        connection = Connection(
            self.broker_url,
            # Each node of a failover list its share: one whose machine is gone answers
            # nothing, and must leave time for the next.
            connect_timeout=timeout / len(self.broker_url.split(";")),
            transport_options={
                # Socket-level bounds as a backstop; _bound() tightens them to the deadline.
                "read_timeout": timeout,
                "write_timeout": timeout,
                # RabbitMQ's connection.blocked / unblocked (py-amqp advertises both).
                "on_blocked": self._on_blocked,
                "on_unblocked": self._on_unblocked,
            },
        )
        # Each listed node once, no sleep: kombu's connect() retries once after 2 s.
        connect_first_answering(connection, timeout)
        self._connection = connection
        self._bound()
        _topology_declare_leniently(connection, self._bound)
        self._channel_open()
        self._send = app.amqp.send_task_message
        self._as_task = app.amqp.as_task_v2

    def _on_blocked(self, reason):
        logger.warning("the broker blocks publishing: %s", reason)
        self._blocked = reason or "blocked"

    def _on_unblocked(self):
        logger.info("the broker publishes again (connection unblocked)")
        self._blocked = None

    def _channel_close(self):
        """Close the channel, also one the broker closed: py-amqp reopens such a
        channel at once (same number), and a channel not closed here stays open on the
        connection for its lifetime."""
        channel, self._channel = self._channel, None
        if channel is not None:
            with contextlib.suppress(Exception):
                self._bound()
                channel.close()

    def _channel_open(self):
        self._channel_close()
        self._bound()
        channel = self._connection.channel()
        channel.confirm_select()
        confirms = _ChannelConfirms()
        channel.events["basic_ack"].add(confirms.on_ack)
        channel.events["basic_nack"].add(confirms.on_nack)
        channel.events["basic_return"].add(confirms.on_return)
        self._channel, self._confirms = channel, confirms
        self._producer = Producer(channel, exchange=celeryconfig.WORK_EXCHANGE, auto_declare=False)

    def reset(self):
        """Drop the connection without a close handshake (it may be the broken part)."""
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.collect()
        self._connection = self._channel = self._producer = self._confirms = None
        self._blocked = None

    def close(self):
        """Close cleanly within the timeout; drop the socket if the broker does not answer."""
        if self._connection is None:
            return
        self._deadline = time.monotonic() + self.timeout
        try:
            self._bound()
            self._connection.release()
        except Exception:
            logger.warning("broker did not close the connection in time; dropped it")
        self.reset()

    # --- publishing --------------------------------------------------------------------
    def publish(self, rows):
        """Publish outbox rows and return a PublishOutcome; never raises for the broker."""
        started = time.monotonic()
        self._deadline = started + self.timeout
        self._send_until = started + self.timeout / 2
        outcome = PublishOutcome()
        try:
            if self._connection is None or not self._connection.connected:
                self.reset()
                self._connect()
            # Blocked (a memory or disk alarm): send nothing until RabbitMQ unblocks
            # the connection; a new connection would only be blocked too.
            self._wait_until(lambda: not self._blocked)
            self._publish_isolating(rows, outcome)
            returned = [row for row in rows if row.id in outcome.returned]
            if returned:
                # Unroutable: a queue of the topology was deleted. Declare it again and
                # send those rows once more; returned again, they stay refused.
                logger.warning("%d rows unroutable: declaring the topology", len(returned))
                _topology_declare_leniently(self._connection, self._bound)
                for row in returned:
                    del outcome.refused[row.id]
                outcome.returned.clear()
                self._publish_isolating(returned, outcome)
            self.window = min(self.window * 2, self.max_window)
        except Exception as exc:  # the broker is unreachable, blocked or too slow
            outcome.error = exc
            if self._blocked and isinstance(exc, TimeoutError):
                # Keep the connection, its channel and what that has outstanding: their
                # confirms come once RabbitMQ unblocks it (a reset would send them again).
                outcome.error = BrokerBlockedError(f"broker blocks publishing: {self._blocked}")
            else:
                if isinstance(exc, TimeoutError):
                    # Sent more than it could confirm in time: send less at once.
                    self.window = max(self.window // 2, 1)
                self.reset()
            logger.warning("broker publish failed: %r", outcome.error)
        return outcome

    def _publish_isolating(self, rows, outcome):
        """Publish `rows`; after a channel error try the rest one by one, so that one
        bad row cannot hold back the rows around it."""
        for row in self._publish_batch(rows, outcome):
            self._publish_batch([row], outcome, alone=True)

    def _publish_batch(self, rows, outcome, alone=False):
        """Publish `rows` on the current channel and settle them into `outcome`.

        Returns the rows a channel error left unsettled (to be tried one by one); a row
        published alone that causes one is refused with it. Confirms that arrived before
        any error count, so confirmed rows are never sent again; so do confirms of an
        earlier sweep on this channel (one the broker blocked), so that a row whose
        first copy was confirmed meanwhile is not sent a second time.
        """
        if self._channel is None or not self._channel.is_open:
            self._channel_open()
        confirms = self._confirms
        broker_errors = self._connection.connection_errors + self._connection.channel_errors
        by_id = {row.id: row for row in rows}
        try:
            for index, row in enumerate(rows):
                if row.queue not in celeryconfig.WORK_QUEUE_NAMES:
                    outcome.refused[row.id] = f"unknown queue {row.queue!r}: not in celeryconfig"
                    continue
                # Room in the window, read as confirms arrive; blocked, nothing goes out.
                self._wait_until(
                    lambda: len(confirms.outstanding) < self.window and not self._blocked
                )
                if row.id in confirms.acked:
                    continue  # an earlier copy was confirmed just now
                if time.monotonic() > self._send_until:
                    outcome.unsent.update(r.id for r in rows[index:])
                    break
                self._bound()
                try:
                    self._send_row(row)
                except (OSError, *broker_errors):
                    raise
                except Exception as exc:  # this row cannot even be encoded or sent
                    outcome.refused[row.id] = f"cannot be sent: {exc!r}"
                    continue
                confirms.sent(row.id)
            self._wait_until(confirms.settled)
        except self._connection.channel_errors as exc:
            self._channel_close()
            self._settle_into(outcome, confirms, by_id)
            settled = outcome.confirmed | outcome.refused.keys()
            left = [row for row in rows if row.id not in settled]
            if alone:
                for row in left:
                    outcome.refused[row.id] = f"channel error: {exc}"
                return []
            return left
        except BaseException:
            self._settle_into(outcome, confirms, by_id)
            raise
        self._settle_into(outcome, confirms, by_id)
        return []

    def _settle_into(self, outcome, confirms, by_id):
        for row_id in confirms.acked:
            if row_id in confirms.returned:
                outcome.refused[row_id] = confirms.returned[row_id]
                outcome.returned.add(row_id)
            elif row_id in by_id:
                outcome.confirmed.add(row_id)
        for row_id in confirms.nacked:
            if row_id in by_id:
                outcome.refused[row_id] = "nacked by the broker (an internal error there)"
        confirms.acked.clear()
        confirms.nacked.clear()
        confirms.returned.clear()

    def _send_row(self, row):
        message = self._as_task(
            str(row.id),
            row.task_name,
            args=row.payload,
            kwargs={},
            retries=0,
            # Celery's own saferepr of the args cost 70% of publishing time.
            argsrepr=json.dumps(row.payload)[:1024],
            kwargsrepr="{}",
        )
        self._send(
            self._producer,
            row.task_name,
            message,
            exchange=celeryconfig.WORK_EXCHANGE.name,
            routing_key=celeryconfig.routing_key_for(row.queue, row.priority),
            retry=False,
            declare=[],
            priority=row.priority,
            headers={CORRELATION_HEADER: row.correlation_id},
            # A message that routes to no queue comes back (basic.return) instead of
            # being confirmed and dropped.
            mandatory=True,
        )


def _topology_declare_leniently(connection, bound):
    """Declare the topology, but let a queue whose declaration fails (say its arguments
    changed: PRECONDITION_FAILED) stop nothing: the existing queue still takes messages,
    and a missing one makes its messages come back as unroutable."""
    from apps.messaging.broker import topology_entities

    channel = connection.channel()
    try:
        for entity in topology_entities():
            bound()
            try:
                entity(channel).declare()
            except connection.channel_errors as exc:
                # py-amqp has already reopened the channel the broker closed: go on on it.
                logger.error("cannot declare %s: %s (see `manage.py broker status`)", entity, exc)
    finally:
        with contextlib.suppress(Exception):
            bound()
            channel.close()


_local = threading.local()


def _publisher():
    publisher = getattr(_local, "publisher", None)
    if publisher is None or publisher.broker_url != settings.CELERY_BROKER_URL:
        publisher = _local.publisher = ConfirmingPublisher(
            settings.CELERY_BROKER_URL, settings.BROKER_PUBLISH_TIMEOUT
        )
    return publisher
