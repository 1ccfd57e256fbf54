"""Writes of the messaging app: the idempotency ledger, failure records, pruning."""

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.pruning import delete_in_chunks
from apps.messaging.models import (
    DeliveryAttempt,
    MessageFailure,
    OutboxMessage,
    ProcessedMessage,
)


def processed_message_record(message_id, consumer):
    """Record (message, consumer) in the ledger; False when it was already there.

    Call inside the transaction that does the work: the record commits with it. A
    concurrent duplicate waits on the unique index and then sees the committed row.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_processedmessage (message_id, consumer, processed_at) "
            "VALUES (%s, %s, now()) ON CONFLICT DO NOTHING RETURNING id",
            [message_id, consumer],
        )
        return cursor.fetchone() is not None


def processed_message_seen(message_id, consumer):
    return ProcessedMessage.objects.filter(message_id=message_id, consumer=consumer).exists()


def _delivery_attempt_upsert(message_id, consumer, *, lost_workers, holding, on_conflict):
    """Insert the (message, consumer) row, or apply `on_conflict` (SQL assignments, the
    row as `old`) to the one there; commit at once; return its lost-worker count.

    The commit does not wait for the WAL flush: a count that a PostgreSQL crash loses is
    one lost worker uncounted, and a message start pays no flush for it. One statement,
    its own transaction (autocommit): `set_config(..., true)` sets synchronous_commit for
    that transaction only, read when it commits (no BEGIN, SET LOCAL and COMMIT: four
    round trips per message before). Inside a caller's transaction it joins it (and
    that transaction's commit is not flushed either, as with the SET LOCAL before)."""
    table = DeliveryAttempt._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS old (message_id, consumer, redeliveries, retry_started, "
            "holding, updated_at) SELECT %s, %s, %s, 0, %s, now() "
            "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS unflushed "
            f"ON CONFLICT (message_id, consumer) DO UPDATE SET {on_conflict}, "
            "updated_at = now() RETURNING redeliveries",
            [message_id, consumer, lost_workers, holding],
        )
        return cursor.fetchone()[0]


def delivery_worker_lost(message_id, consumer):
    """Count a worker that died holding a message (its pool process was lost or killed
    at the hard time limit): called by the worker's main process, before the message is
    requeued; the hold is cleared so that the next copy does not count it again."""
    return _delivery_attempt_upsert(
        message_id,
        consumer,
        lost_workers=1,
        holding=False,
        on_conflict="redeliveries = old.redeliveries + 1, holding = false",
    )


def delivery_attempt_hold(message_id, consumer, *, redelivered):
    """A copy of a message starts: hold it until its work is done (the ledger row) or it
    ends otherwise (delivery_attempt_release). A redelivered copy that finds the hold of a
    copy whose work is not done counts a lost worker: that copy's whole worker died (a
    lost pool process is counted by the main process, which clears the hold). A broker
    restart, a consumer timeout or a requeue of ours counts nothing. Returns the lost
    workers so far."""
    ledger = ProcessedMessage._meta.db_table
    counted = (
        f"+ CASE WHEN old.holding AND NOT EXISTS (SELECT 1 FROM {ledger} p WHERE "
        "p.message_id = old.message_id AND p.consumer = old.consumer) THEN 1 ELSE 0 END"
    )
    return _delivery_attempt_upsert(
        message_id,
        consumer,
        lost_workers=0,
        holding=True,
        on_conflict=f"redeliveries = old.redeliveries {counted if redelivered else ''}, "
        "holding = true",
    )


def delivery_attempt_release(message_id, consumer):
    """A copy ended without doing its work and without its worker dying (retried,
    requeued, dead-lettered or skipped)."""
    DeliveryAttempt.objects.filter(message_id=message_id, consumer=consumer).update(holding=False)


def delivery_retry_start(message_id, consumer, retry):
    """Record that retry number `retry` (1, 2, ...) of a message starts; False when it
    (or a later one) already started, i.e. this copy is a duplicate. Commits at once."""
    table = DeliveryAttempt._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (message_id, consumer, redeliveries, retry_started, updated_at) "
            "VALUES (%s, %s, 0, %s, now()) ON CONFLICT (message_id, consumer) DO UPDATE "
            "SET retry_started = EXCLUDED.retry_started, updated_at = now() "
            f"WHERE {table}.retry_started < EXCLUDED.retry_started RETURNING id",
            [message_id, consumer, retry],
        )
        return cursor.fetchone() is not None


def delivery_attempts_reset(message_id):
    DeliveryAttempt.objects.filter(message_id=message_id).delete()


def message_failure_record(*, message_id, consumer, queue, reason, attempts, correlation_id):
    return MessageFailure.objects.create(
        message_id=message_id,
        consumer=consumer,
        queue=queue,
        # A reason may quote what a client sent; PostgreSQL text cannot hold a NUL.
        reason=reason.replace("\x00", "\\x00")[:5000],
        attempts=attempts,
        correlation_id=correlation_id or "",
    )


def messaging_records_prune(*, now=None, deadline=None):
    """Delete what no longer protects anything, in chunks (apps.core.pruning):
    published outbox rows, ledger rows and delivery attempts past their retention, and
    failure records past theirs. Unpublished rows are never deleted."""
    now = now or timezone.now()

    def before(days):
        return now - datetime.timedelta(days=days)

    ledger_cutoff = before(settings.LEDGER_RETENTION_DAYS)
    rules = {
        "outbox": OutboxMessage.objects.filter(
            published_at__isnull=False, published_at__lt=before(settings.OUTBOX_RETENTION_DAYS)
        ),
        "ledger": ProcessedMessage.objects.filter(processed_at__lt=ledger_cutoff),
        "delivery_attempts": DeliveryAttempt.objects.filter(updated_at__lt=ledger_cutoff),
        "message_failures": MessageFailure.objects.filter(
            failed_at__lt=before(settings.MESSAGE_FAILURE_RETENTION_DAYS)
        ),
    }
    return {name: delete_in_chunks(rows, deadline=deadline) for name, rows in rules.items()}


def outbox_unpark(ids):
    """Give parked outbox rows (their cause fixed) a fresh start; return how many."""
    return OutboxMessage.objects.filter(
        id__in=ids, published_at__isnull=True, parked_at__isnull=False
    ).update(parked_at=None, refusals=0, not_before=None, last_error="")


def outbox_republish(*, since):
    """After a restore without the broker's queues: mark every row published at or after
    `since` unpublished again, so the relay publishes it anew; return how many. Safe
    because the row id is the message id: a consumer whose work for it is in the ledger
    (or a notification already sent) skips it."""
    return OutboxMessage.objects.filter(published_at__gte=since, parked_at__isnull=True).update(
        published_at=None, last_error=f"re-published after a restore (published since {since})"
    )
