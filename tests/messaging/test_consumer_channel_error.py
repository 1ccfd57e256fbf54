"""A channel error on a worker's consumer channel restarts the consumer, which keeps
consuming (`broker_channel_error_retry`, celeryconfig.py; docs/MESSAGING.md).

The channel error is RabbitMQ's own: a delivery held unacked past `consumer_timeout`
closes the consumer's channel with PRECONDITION_FAILED. RabbitMQ 3.10 sets that timeout
only node-wide (per queue or consumer from 3.12) and checks it once a minute, so the test
runs a node of its own (port 5675, beside the machine's node, never touching it) with a
2 s timeout checked every second (`channel_tick_interval`).

With `broker_channel_error_retry = False` this test fails (run 2026-12-06): the worker
logs "Unrecoverable error: PreconditionFailed(406, 'PRECONDITION_FAILED - delivery
acknowledgement on channel 1 timed out ...')" and shuts down, and the next message is
never handled.
"""

from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from apps.messaging.broker import topology_declare, vhost_delete, vhost_ensure
from apps.messaging.publisher import publish
from bench.faults.node import RabbitNode
from devtools.processes import wait_until
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect

pytestmark = [pytest.mark.broker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
AMQP_PORT = 5675
ACK_TIMEOUT_MS = 2000
CHANNEL_ERROR = "delivery acknowledgement on channel"


@pytest.fixture(scope="module")
def short_ack_timeout_node():
    node = RabbitNode(
        ROOT / "var" / "test-consumer-timeout",
        amqp_port=AMQP_PORT,
        management_port=15675,
        dist_port=25675,
        log=print,
        node_name="propmgmt_consumer_timeout@localhost",
        advanced_config=(
            f"[{{rabbit, [{{consumer_timeout, {ACK_TIMEOUT_MS}}}, "
            "{channel_tick_interval, 1000}]}]."
        ),
    )
    node.prepare()
    try:
        node.start()
        yield node
    finally:
        node.stop(timeout=60)


@pytest.fixture
def node_vhost(short_ack_timeout_node, transactional_db):
    """The suite's vhost on that node; this process's broker calls use it."""
    vhost = settings.TEST_BROKER_VHOST
    url = f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/{quote(vhost, safe='')}"
    with override_settings(
        CELERY_BROKER_URL=url, RABBITMQ_MANAGEMENT_URL=short_ack_timeout_node.management_url
    ):
        vhost_delete(vhost)
        vhost_ensure(vhost)
        topology_declare()
        yield vhost


def test_a_channel_error_on_the_consumer_channel_restarts_the_consumer(
    node_vhost, start_worker, start_relay
):
    broker = {"TEST_BROKER_HOSTS": f"127.0.0.1:{AMQP_PORT}"}
    worker = start_worker("reporting", env=broker, relay=False)
    relay = start_relay(**broker)

    # Held unacked past the broker's acknowledgement timeout: RabbitMQ closes the
    # worker's consumer channel (a channel error, not a lost connection).
    with transaction.atomic():
        publish(probe_event("probe.slow", {"key": "held", "seconds": 5}))
    wait_until(
        lambda: CHANNEL_ERROR in worker.logs(),
        30,
        message=f"the channel error in the worker's log:\n{worker.logs()}",
    )

    # The consumer came back on a new channel: the worker is the same process and the
    # next message is handled.
    with transaction.atomic():
        publish(probe_event("probe.happened", {"key": "after"}))
    wait_until(
        lambda: ProbeEffect.objects.filter(key="after").exists(),
        60,
        message=f"a message after the channel error; worker log:\n{worker.logs()}\n"
        f"relay log:\n{relay.logs()}",
    )
    assert worker.popen.poll() is None, worker.logs()
    # The held message ran once: its redelivered copy found it done in the ledger.
    wait_until(lambda: ProbeEffect.objects.filter(key="held").exists(), 30)
    assert ProbeEffect.objects.filter(key="held").count() == 1
