"""Raw broker rates shared by bench/queue_types.py (one node) and
bench/faults/cluster_throughput.py (a cluster next to one node): persistent messages of an
outbox event's size published with publisher confirms, a window of CONFIRM_WINDOW
outstanding (as the relay publishes), then consumed with a prefetch of PREFETCH and
acknowledged one by one (as late-acking workers do), on a queue declared with the
arguments celeryconfig.py gives a work queue of each type. No Django."""

import json
import time

import amqp

CONFIRM_WINDOW = 500
PREFETCH = 50
EVENT = {"event": "repair.requested", "occurred_at": "2026-01-01T00:00:00+00:00"}
BODY = json.dumps([{**EVENT, "data": {"repair_id": 123456}}]).encode()
DEAD_LETTERING = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "bench.dlq"}
ARGUMENTS = {
    "classic": DEAD_LETTERING,
    "quorum": {
        **DEAD_LETTERING,
        "x-queue-type": "quorum",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-delivery-limit": 20,
    },
}
# A stalled broker fails the bench instead of hanging it.
WAIT = 120


def publish_all(channel, queue, messages):
    """Publish `messages` to `queue`, confirmed; messages per second."""
    confirmed = [0]  # delivery tags count the publishes; a queue confirms them in order
    channel.events["basic_ack"].add(lambda tag, multiple: confirmed.append(tag))
    channel.confirm_select()
    started = time.perf_counter()
    sent = 0
    while max(confirmed) < messages:
        while sent < messages and sent - max(confirmed) < CONFIRM_WINDOW:
            message = amqp.Message(BODY, content_type="application/json", delivery_mode=2)
            channel.basic_publish(message, exchange="", routing_key=queue)
            sent += 1
        channel.connection.drain_events(timeout=WAIT)
        confirmed[:] = [max(confirmed)]
    return messages / (time.perf_counter() - started)


def consume_all(channel, queue, messages):
    """Consume and acknowledge `messages` from `queue`; messages per second."""
    received = []

    def on_message(message):
        channel.basic_ack(message.delivery_tag)
        received.append(1)

    channel.basic_qos(0, PREFETCH, False)
    tag = channel.basic_consume(queue, callback=on_message)
    started = time.perf_counter()
    while len(received) < messages:
        channel.connection.drain_events(timeout=WAIT)
    elapsed = time.perf_counter() - started
    channel.basic_cancel(tag)
    return messages / elapsed
