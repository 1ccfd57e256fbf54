"""Rows the broker will not take, against the real RabbitMQ: a message that routes to no
queue comes back (mandatory) and its row waits; one bad row does not hold back the rows
around it; a row that keeps being refused is parked and shown to operators."""

import datetime
import time
from urllib.parse import quote

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

import celeryconfig
from apps.messaging import publisher as publisher_module
from apps.messaging.broker import _management, broker_connection, topology_declare
from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import outbox_publish_due, publish
from apps.messaging.selectors import outbox_stats
from tests.conftest import queue_depth, wait_until
from tests.factories import UserFactory
from tests.probe.events import probe_event

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def relay(clean_queues):
    """The relay's own publisher, already connected (as in a running relay); the
    topology is whole again afterwards."""
    publisher_module._publisher().reset()
    yield
    publisher_module._publisher().reset()
    with broker_connection() as connection:
        channel = connection.channel()
        channel.queue_delete("complaints")
        channel.close()
    topology_declare()


def committed(event, key, **kwargs):
    with transaction.atomic():
        return publish(probe_event(event, {"key": key}), **kwargs)[0]


def row(instance):
    return OutboxMessage.objects.get(id=instance.id)


def test_message_that_stays_unroutable_is_returned_and_its_row_waits(relay):
    committed("probe.happened", "warm-up")
    assert outbox_publish_due() == 1  # the relay is connected and has declared everything
    with broker_connection() as holder:
        channel = holder.channel()
        channel.queue_delete("complaints")
        # Another connection's exclusive queue of that name, bound to nothing: the
        # relay's declare of it fails (RESOURCE_LOCKED), so its messages route nowhere.
        channel.queue_declare("complaints", exclusive=True)
        waiting = committed("probe.breakable", "nowhere")
        assert outbox_publish_due() == 0
        channel.close()
    stored = row(waiting)
    assert stored.published_at is None
    assert "returned by the broker" in stored.last_error and "NO_ROUTE" in stored.last_error
    assert stored.refusals == 1 and stored.not_before > timezone.now()


def test_queue_unknown_to_this_process_does_not_stop_the_rows_around_it(relay):
    before = committed("probe.happened", "before")
    stranger = committed("probe.happened", "stranger")
    after = committed("probe.happened", "after")
    # Written by a release whose celeryconfig had a queue this one does not know.
    OutboxMessage.objects.filter(id=stranger.id).update(queue="retired_queue")
    assert outbox_publish_due() == 2
    assert row(before).published_at and row(after).published_at
    assert row(stranger).published_at is None
    assert "unknown queue 'retired_queue'" in row(stranger).last_error
    assert queue_depth("reporting") == 2


def complaints_with_old_arguments():
    with broker_connection() as connection:
        channel = connection.channel()
        channel.queue_delete("complaints")
        # The queue as an older release declared it: other arguments, so declaring it
        # as celeryconfig says now fails with PRECONDITION_FAILED.
        channel.queue_declare("complaints", durable=True, auto_delete=False)
        channel.queue_bind("complaints", celeryconfig.WORK_EXCHANGE.name, "complaints")
        channel.close()


def delete_queue(name):
    with broker_connection() as connection:
        channel = connection.channel()
        channel.queue_delete(name)
        channel.close()


def test_queue_whose_arguments_changed_does_not_stop_publishing(relay):
    complaints_with_old_arguments()
    publisher_module._publisher().reset()  # a relay starting now declares the topology
    complaint = committed("probe.breakable", "old-args")
    report = committed("probe.happened", "fine")
    assert outbox_publish_due() == 2
    assert row(complaint).published_at and row(report).published_at
    assert queue_depth("complaints") == 1 and queue_depth("reporting") == 1


def test_row_refused_again_and_again_is_parked_shown_and_can_be_retried(relay, settings):
    settings.OUTBOX_MAX_PUBLISH_ATTEMPTS = 2
    bad = committed("probe.happened", "bad")
    OutboxMessage.objects.filter(id=bad.id).update(queue="retired_queue")
    assert outbox_publish_due() == 0
    assert row(bad).refusals == 1 and row(bad).parked_at is None
    # Backing off: the next sweeps leave it alone until its time comes.
    assert outbox_publish_due() == 0
    assert row(bad).publish_attempts == 1
    OutboxMessage.objects.filter(id=bad.id).update(not_before=timezone.now())
    assert outbox_publish_due() == 0
    assert row(bad).refusals == 2 and row(bad).parked_at is not None
    OutboxMessage.objects.filter(id=bad.id).update(not_before=timezone.now())
    assert outbox_publish_due() == 0
    assert row(bad).publish_attempts == 2  # parked: not tried again

    stats = outbox_stats()
    assert stats["parked"] == 1 and stats["unpublished"] == 0

    # The operator fixes the cause and retries it from the admin.
    OutboxMessage.objects.filter(id=bad.id).update(queue="reporting")
    admin = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().post("/")
    request.user = admin
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    model_admin = admin_site._registry[OutboxMessage]
    assert "outbox_unpark_selected" in model_admin.get_actions(request)
    model_admin.outbox_unpark_selected(request, OutboxMessage.objects.filter(id=bad.id))
    assert row(bad).parked_at is None
    assert outbox_publish_due() == 1
    assert row(bad).published_at is not None


def test_outbox_stats_and_broker_status_show_waiting_and_parked_rows(relay, capsys):
    old = committed("probe.happened", "old")
    OutboxMessage.objects.filter(id=old.id).update(
        created_at=timezone.now() - datetime.timedelta(minutes=3)
    )
    committed("probe.happened", "later", not_before=timezone.now() + datetime.timedelta(hours=1))
    parked = committed("probe.happened", "parked")
    OutboxMessage.objects.filter(id=parked.id).update(parked_at=timezone.now(), refusals=10)
    stats = outbox_stats()
    assert stats["unpublished"] == 2 and stats["parked"] == 1
    assert 170 < stats["oldest_unpublished_age"] < 400
    call_command("broker", "status")
    out = capsys.readouterr().out
    assert "outbox: 2 unpublished" in out and "1 parked" in out


def test_a_deleted_work_queue_is_declared_again_and_gets_its_messages(relay):
    committed("probe.happened", "warm-up")
    assert outbox_publish_due() == 1  # connected, the topology declared
    delete_queue("complaints")
    complaint = committed("probe.breakable", "to-a-deleted-queue")
    assert outbox_publish_due() == 1
    assert row(complaint).published_at is not None and row(complaint).refusals == 0
    assert queue_depth("complaints") == 1


def relay_channels():
    """Channels RabbitMQ counts on the relay's connection (management API)."""
    connection = publisher_module._publisher()._connection
    port = connection.connection.sock.getsockname()[1]
    vhost = quote(connection.virtual_host, safe="")

    def connection_name():
        found = [c for c in _management(f"vhosts/{vhost}/connections") if c["peer_port"] == port]
        return found[0]["name"] if found else None

    name = wait_until(connection_name, message="the relay's connection listed")
    return _management(f"connections/{quote(name, safe='')}/channels")


def test_channel_errors_leave_no_channel_open_on_the_relays_connection(relay):
    complaints_with_old_arguments()  # each declare of it is a channel error
    committed("probe.happened", "first")
    assert outbox_publish_due() == 1
    # A deleted queue makes the relay declare the topology again: another channel error.
    delete_queue("reporting")
    committed("probe.happened", "second")
    assert outbox_publish_due() == 1
    time.sleep(6)  # the management API refreshes its channel list every 5 s
    channels = relay_channels()
    assert len(channels) == 1, [c["name"] for c in channels]
