"""Quorum against classic queues on this RabbitMQ node, in one run: publish and consume.

For each queue type, a work queue with the arguments celeryconfig.py gives it in that mode
(dead-lettering; quorum: at-least-once, reject-publish, a delivery limit) on its own vhost
`propmgmt_bench_queue_types`: MESSAGES persistent messages of the size of an outbox event
are published with publisher confirms, a window of CONFIRM_WINDOW outstanding (as the
relay publishes), then consumed with a prefetch of PREFETCH and acknowledged one by one
(as late-acking workers do). Prints messages per second for each and the quorum/classic
ratio; the vhost is deleted afterwards. docs/BENCHMARKS.md keeps the figures.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propmgmt.settings")

import django

django.setup()

import amqp  # noqa: E402

from apps.messaging.broker import vhost_delete, vhost_ensure  # noqa: E402
from bench.amqp_rates import ARGUMENTS, BODY, consume_all, publish_all  # noqa: E402

VHOST = "propmgmt_bench_queue_types"
MESSAGES = int(os.environ.get("BENCH_MESSAGES", 20000))


def _connection():
    broker = amqp.Connection(
        host="127.0.0.1:5672", userid="guest", password="guest", virtual_host=VHOST
    )
    broker.connect()
    return broker


def measure(queue_type):
    queue = f"bench.{queue_type}"
    with _connection() as broker:
        channel = broker.channel()
        channel.queue_declare(
            queue, durable=True, auto_delete=False, arguments=ARGUMENTS[queue_type]
        )
        published = publish_all(channel, queue, MESSAGES)
        consumed = consume_all(broker.channel(), queue, MESSAGES)
        channel.queue_delete(queue)
    return published, consumed


def main():
    vhost_delete(VHOST)
    vhost_ensure(VHOST)
    try:
        with _connection() as broker:
            broker.channel().queue_declare("bench.dlq", durable=True, auto_delete=False)
        results = {queue_type: measure(queue_type) for queue_type in ("classic", "quorum")}
    finally:
        vhost_delete(VHOST)
    print(f"{MESSAGES} persistent messages of {len(BODY)} bytes, one RabbitMQ node")
    for queue_type, (published, consumed) in results.items():
        print(f"  {queue_type:<8} publish {published:8.0f} msg/s   consume {consumed:8.0f} msg/s")
    (cp, cc), (qp, qc) = results["classic"], results["quorum"]
    print(f"  quorum/classic: publish {qp / cp:.2f}x, consume {qc / cc:.2f}x")


if __name__ == "__main__":
    main()
