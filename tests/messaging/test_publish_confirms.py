"""Publisher-confirm bookkeeping: confirms are tracked per channel, a `multiple` ack
settles only what is outstanding, and a new channel starts clean.

The first tests put a scripted channel in place of RabbitMQ (what it acks and when is
the point, and a real broker always acks); the last runs against the real broker.
"""

import collections

import pytest
from amqp.exceptions import NotFound
from django.db import transaction

from apps.messaging import publisher as publisher_module
from apps.messaging.broker import broker_connection
from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import ConfirmingPublisher, outbox_publish_due, publish
from propmgmt.celery import app
from tests.conftest import queue_depth
from tests.probe.events import probe_event


class ScriptedChannel:
    def __init__(self):
        self.events = collections.defaultdict(set)
        self.is_open = True
        self.published = []  # row ids, in delivery-tag order

    def confirm_select(self):
        pass

    def close(self):
        self.is_open = False

    def fire(self, event, *args):
        for callback in list(self.events[event]):
            callback(*args)


class ScriptedBroker:
    """Stands in for a kombu connection: `acks` says what the broker answers to each
    batch: a list of ("ack"|"nack", tag, multiple) or an exception to raise."""

    connection_errors = (ConnectionError,)
    recoverable_connection_errors = (ConnectionError,)
    channel_errors = (NotFound,)
    alt = []  # one broker, no failover list

    def __init__(self, acks):
        self.acks = acks
        self.channels = []
        self.connected = True

    def ensure_connection(self, **kwargs):
        return self

    def connect(self):  # the kombu API the code before per-channel confirms used
        return self

    def channel(self):
        self.channels.append(ScriptedChannel())
        return self.channels[-1]

    def drain_events(self, timeout=None):
        if not self.acks:
            raise TimeoutError("no confirm came")
        answer = self.acks.pop(0)
        if isinstance(answer, Exception):
            self.channels[-1].is_open = False
            raise answer
        kind, tag, multiple = answer
        self.channels[-1].fire(f"basic_{kind}", tag, multiple)

    def release(self):
        self.connected = False

    collect = release


@pytest.fixture
def scripted(monkeypatch):
    """A relay whose broker answers as scripted; returns the script to fill."""
    script = []
    broker = ScriptedBroker(script)
    monkeypatch.setattr(publisher_module, "Connection", lambda *a, **k: broker)
    monkeypatch.setattr(
        publisher_module, "Producer", lambda channel, **k: type("P", (), {"channel": channel})
    )
    monkeypatch.setattr(
        publisher_module, "_topology_declare_leniently", lambda *a: None, raising=False
    )
    monkeypatch.setattr("apps.messaging.broker.topology_declare", lambda *a: None)
    monkeypatch.setattr(ConfirmingPublisher, "_bound", lambda self: None, raising=False)

    def send(producer, name, message, **options):
        producer.channel.published.append(message[0]["id"])

    monkeypatch.setattr(app.amqp, "send_task_message", send)
    publisher = ConfirmingPublisher("amqp://scripted//", timeout=0.5)
    monkeypatch.setattr(publisher_module, "_publisher", lambda: publisher)
    return broker


def rows(count):
    with transaction.atomic():
        return [publish(probe_event("probe.happened", {"key": f"k{i}"}))[0] for i in range(count)]


def unpublished():
    return set(OutboxMessage.objects.filter(published_at__isnull=True).values_list("id", flat=True))


def sweep():
    try:
        return outbox_publish_due()
    except (TimeoutError, OSError):
        return None


@pytest.mark.django_db
def test_no_confirm_on_a_new_channel_leaves_rows_unpublished(scripted):
    batch = rows(3)
    scripted.acks += [("ack", 3, True)]
    assert sweep() == 3
    batch = rows(3)
    scripted.acks += [("ack", 6, True)]
    assert sweep() == 3
    # The connection is lost; on the new channel tags start at 1 again and nothing is
    # confirmed: the rows must wait, however many tags the old channel had acked.
    publisher_module._publisher().reset()
    batch = rows(3)
    assert sweep() is None
    assert unpublished() == {row.id for row in batch}
    assert OutboxMessage.objects.get(id=batch[0].id).last_error


@pytest.mark.django_db
def test_multiple_ack_settles_only_up_to_its_tag_and_a_nack_is_not_lost(scripted):
    batch = rows(4)
    scripted.acks += [("ack", 2, True), ("nack", 3, False), ("ack", 4, False)]
    assert sweep() == 3
    assert unpublished() == {batch[2].id}
    nacked = OutboxMessage.objects.get(id=batch[2].id)
    assert nacked.refusals == 1 and "nack" in nacked.last_error
    # The next batch on the same channel has tags 5-7; an ack for 6 with multiple
    # settles 5 and 6 only, and 7 waits for its own confirm, which never comes. The
    # sweep still records and counts the two it confirmed.
    later = rows(3)
    scripted.acks += [("ack", 6, True)]
    assert sweep() == 2
    assert unpublished() == {batch[2].id, later[2].id}


@pytest.mark.django_db
def test_channel_error_keeps_confirmed_rows_and_isolates_the_bad_one(scripted):
    batch = rows(4)
    # Tags 1-2 are confirmed, then the broker closes the channel (say NOT_FOUND). The
    # rest is tried one by one: row 3 is fine, row 4 breaks its channel again.
    scripted.acks += [
        ("ack", 2, True),
        NotFound("NOT_FOUND - no queue", None, None),
        ("ack", 1, False),
        NotFound("NOT_FOUND - no queue", None, None),
    ]
    assert sweep() == 3
    assert unpublished() == {batch[3].id}
    bad = OutboxMessage.objects.get(id=batch[3].id)
    assert "NOT_FOUND" in bad.last_error and bad.refusals == 1
    # Rows 1-2 were sent once, on the first channel only; 3 and 4 again, on a new one.
    first, second = scripted.channels
    assert first.published == [str(r.id) for r in batch]
    assert second.published == [str(batch[2].id), str(batch[3].id)]


@pytest.mark.broker
@pytest.mark.django_db
def test_real_broker_confirms_every_batch_across_a_reconnect(clean_queues):
    url = broker_connection().as_uri(include_password=True)
    publisher = ConfirmingPublisher(url, timeout=5)
    try:
        with transaction.atomic():
            batch = [
                publish(probe_event("probe.happened", {"key": f"r{i}"}))[0] for i in range(300)
            ]
        confirmed = set()
        for start in range(0, 300, 100):
            outcome = publisher.publish(batch[start : start + 100])
            assert outcome.error is None and not outcome.refused
            confirmed |= outcome.confirmed
            publisher.reset()  # a new connection, and so a new channel, for each batch
        assert confirmed == {row.id for row in batch}
        assert queue_depth("reporting") == 300
    finally:
        publisher.close()
