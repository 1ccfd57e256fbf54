"""What one wake of the relay costs in SQL statements, counted (deterministic, not
timed), in the style of test_consumer_statements.py: the relay's loop runs in process,
on the real broker, until it would wait for the next notification. BEGIN and COMMIT
count: each is a round trip.

At an ordinary rate the relay is woken by each commit for a few rows, so its cost is
per wake, not per message (issue 27). Before, a wake swept twice: the sweep that
published, then one that found nothing (BEGIN, the lock and fetch, COMMIT), 7
statements, and the ORM built and compiled both queries anew (about 1.9 ms of the
relay's CPU per message at 90 rows/s, 0.85 ms after)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.messaging.management.commands import outbox_relay
from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import publish
from tests.probe.events import probe_event

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

# BEGIN, the lock and fetch of the due rows, marking the confirmed ones published, COMMIT.
WAKE = 4


class OneWake:
    """Stands in for the relay's listener: the relay sweeps as if woken, and the first
    time it would wait for a notification it stops instead."""

    def __init__(self, channel):
        self.waits = 0

    def ensure(self):
        return False

    def wait(self, timeout, interrupt):
        self.waits += 1
        self.command._running = False
        return False

    def close(self):
        pass


def committed(count):
    with transaction.atomic():
        return [publish(probe_event("probe.happened", {"key": str(n)}))[0] for n in range(count)]


def one_wake(monkeypatch):
    """Run the relay until it would wait; its statements."""
    command = outbox_relay.Command()
    monkeypatch.setattr(OneWake, "command", command, raising=False)
    monkeypatch.setattr(outbox_relay, "_Listener", OneWake)
    monkeypatch.setattr(outbox_relay.signal, "signal", lambda *_: None)  # pytest's stay
    with CaptureQueriesContext(connection) as queries:
        command.handle()
    return [q["sql"] for q in queries.captured_queries]


def test_a_wake_for_a_few_rows_publishes_them_in_one_sweep(clean_queues, monkeypatch):
    rows = committed(3)
    statements = one_wake(monkeypatch)
    assert len(statements) <= WAKE, f"{len(statements)} statements:\n" + "\n".join(statements)
    assert OutboxMessage.objects.filter(id__in=[r.id for r in rows], published_at=None).count() == 0


def test_a_full_batch_sweeps_again_at_once(clean_queues, monkeypatch, settings):
    """A batch of OUTBOX_RELAY_BATCH rows may have more behind it: no waiting for a
    notification (they were notified before the sweep) or the next interval."""
    settings.OUTBOX_RELAY_BATCH = 2
    rows = committed(5)
    statements = one_wake(monkeypatch)
    assert OutboxMessage.objects.filter(id__in=[r.id for r in rows], published_at=None).count() == 0
    # Three sweeps of 2, 2 and 1 rows; the last, not full, waits.
    assert len(statements) <= 3 * WAKE, "\n".join(statements)
