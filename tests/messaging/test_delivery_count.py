"""When RabbitMQ's `x-delivery-count` rises on a quorum queue (this broker, 3.10.8), and so
why the base task keeps its own count of lost workers (docs/MESSAGING.md "Queue types").

A quorum queue of its own on a vhost of its own, whatever BROKER_QUEUE_TYPE is; bare
AMQP, no worker: each way a message can come back is made to happen once, in turn.
"""

import contextlib
import socket

import pytest
from amqp import Message, spec

from apps.messaging.broker import broker_connection
from tests.conftest import wait_until

pytestmark = pytest.mark.broker

QUEUE = "probe.delivery_count"


def take(channel):
    """The queue's next message, unacknowledged."""
    return wait_until(lambda: channel.basic_get(QUEUE, no_ack=False), timeout=10, interval=0.05)


def seen(message):
    return (message.headers or {}).get("x-delivery-count"), message.delivery_info["redelivered"]


def test_x_delivery_count_rises_for_every_return_a_plain_requeue_too(empty_vhost):
    counts = {}
    with broker_connection() as connection:
        channel = connection.channel()
        channel.queue_declare(
            QUEUE, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
        )
        channel.basic_publish(Message(b"{}", delivery_mode=2), exchange="", routing_key=QUEUE)

        message = take(channel)
        counts["first delivery"] = seen(message)
        # Our own requeue (the base task's, while the database is down).
        channel.basic_reject(message.delivery_tag, requeue=True)
        message = take(channel)
        counts["after reject, requeue"] = seen(message)
        # basic.nack (py-amqp has no method for it): delivery tag, multiple, requeue.
        channel.send_method(spec.Basic.Nack, "Lbb", (message.delivery_tag, False, True))
        message = take(channel)
        counts["after nack, requeue"] = seen(message)
        channel.basic_recover(requeue=True)
        message = take(channel)
        counts["after basic.recover"] = seen(message)
        # A channel closed while holding it (Celery restarting its consumer after a
        # channel error, RabbitMQ's consumer timeout).
        channel.close()
        channel = connection.channel()
        message = take(channel)
        counts["after its channel closed"] = seen(message)
        channel.close()  # once more, so that a connection of its own takes it
        doomed = broker_connection()
        counts["after its channel closed again"] = seen(take(doomed.channel()))
        # A worker killed holding it: its connection is cut.
        sock = doomed.connection.transport.sock
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        with contextlib.suppress(Exception):
            doomed.release()
        channel = connection.channel()
        message = take(channel)
        counts["after its connection was lost"] = seen(message)
        channel.basic_ack(message.delivery_tag)
        channel.queue_delete(QUEUE)

    assert counts == {
        "first delivery": (0, False),
        "after reject, requeue": (1, True),
        "after nack, requeue": (2, True),
        "after basic.recover": (3, True),
        "after its channel closed": (4, True),
        "after its channel closed again": (5, True),
        "after its connection was lost": (6, True),
    }, counts
