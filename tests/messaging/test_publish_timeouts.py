"""No request waits on the broker, and every wait of the relay on it is bounded: a broker
that accepts connections and never answers costs the relay's sweep at most
BROKER_PUBLISH_TIMEOUT, and the rows wait for the next one."""

import socket
import threading
import time

import pytest
from django.db import transaction

from apps.messaging import publisher as publisher_module
from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import outbox_publish_due, publish
from propmgmt.celery import app
from tests.probe.events import probe_event

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 1.0
MARGIN = 0.5


@pytest.fixture
def silent_broker():
    """A TCP server on loopback that accepts every connection and never says a word;
    yields its address and the list of connections it accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname(), accepted
    server.close()
    for connection in accepted:
        connection.close()


def test_post_answers_without_waiting_on_a_silent_broker_and_the_relay_publishes_later(
    silent_broker,
    world,
    api,
    settings,
    clean_queues,
):
    address, accepted = silent_broker
    real_broker = settings.CELERY_BROKER_URL
    settings.BROKER_PUBLISH_TIMEOUT = TIMEOUT
    settings.CELERY_BROKER_URL = "amqp://guest:guest@{}:{}//".format(*address)
    body = {"category": "heating", "description": "No heat", "urgency": "urgent"}
    response = api(world.a.resident).post("/api/v1/repairs/", body, format="json")
    assert response.status_code == 201, response.data
    # The request committed and answered without so much as connecting to the broker.
    assert accepted == []
    waiting = OutboxMessage.objects.filter(published_at__isnull=True)
    assert waiting.count() == 2 and all(row.publish_attempts == 0 for row in waiting)
    # The relay's sweep against the silent broker is bounded, and the rows wait.
    started = time.monotonic()
    with pytest.raises(OSError):
        outbox_publish_due()
    assert time.monotonic() - started < TIMEOUT + MARGIN
    assert accepted and all(row.last_error for row in waiting.all())

    settings.CELERY_BROKER_URL = real_broker  # the broker is back
    assert outbox_publish_due() == 2
    assert not OutboxMessage.objects.filter(published_at__isnull=True).exists()


def test_a_silent_node_first_in_the_failover_list_leaves_time_for_the_next(
    silent_broker, settings, clean_queues
):
    """A cluster node whose machine is gone answers nothing (no refusal): the relay still
    publishes through the next node of CELERY_BROKER_URL within one sweep's bound."""
    settings.BROKER_PUBLISH_TIMEOUT = 2 * TIMEOUT
    real_broker = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = "amqp://guest:guest@{}:{}//;{}".format(
        *silent_broker[0], real_broker
    )
    with transaction.atomic():
        publish(probe_event("probe.happened", {"key": "through-the-next-node"}))
    # The first sweep may spend its sending time finding the node; the next one
    # publishes on the connection it found. Each stays within its bound.
    published = 0
    for _ in range(2):
        started = time.monotonic()
        published += outbox_publish_due()
        assert time.monotonic() - started < 2 * TIMEOUT + MARGIN
    assert published == 1
    assert silent_broker[1], "the silent node was tried first"


def test_closing_a_connection_to_a_broker_that_went_silent_is_bounded(silent_broker, settings):
    publisher = publisher_module.ConfirmingPublisher(settings.CELERY_BROKER_URL, TIMEOUT)
    publisher.publish([])  # connected to the real broker
    assert publisher._connection.connected
    # The broker stops answering (simulated by pointing the socket at a silent peer).
    silent = socket.create_connection(silent_broker[0])
    transport = publisher._connection.connection.transport
    transport.sock.close()
    transport.sock = silent
    started = time.monotonic()
    publisher.close()
    assert time.monotonic() - started < TIMEOUT + MARGIN
    silent.close()


def test_celery_publishes_wait_for_a_confirm_a_bounded_time(broker_vhost):
    """Celery's own publishes (a task's retry, beat) go through its connection pool: the
    socket read timeout py-amqp applies bounds the confirm wait, which otherwise has
    none (`confirm_timeout` is a per-publish argument, not a transport option)."""
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        sock = connection.connection.transport.sock
        received = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16)
        sent = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, 16)
    assert int.from_bytes(received[:8], "little") > 0, "no read timeout on Celery's socket"
    assert int.from_bytes(sent[:8], "little") > 0, "no write timeout on Celery's socket"
    assert "confirm_timeout" not in app.conf.broker_transport_options
