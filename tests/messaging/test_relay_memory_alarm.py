"""The relay under a RabbitMQ memory alarm: a broker that is slow, not dead.

RabbitMQ blocks every publishing connection (`connection.blocked`) while the alarm
lasts. Marked `broker_restart` (it changes the local broker's memory watermark for a
few seconds, which blocks every publisher on it); it needs `rabbitmqctl`.
"""

import contextlib
import shutil
import subprocess
import time

import pytest
from django.db import transaction

from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import publish
from tests.conftest import queue_depth, wait_until
from tests.probe.events import probe_event

pytestmark = [
    pytest.mark.slow,
    pytest.mark.broker,
    pytest.mark.broker_restart,
    pytest.mark.skipif(not shutil.which("rabbitmqctl"), reason="needs a local RabbitMQ"),
]

ALARM_SECONDS = 15  # shared broker: keep the window short


def rabbitmqctl(*args):
    result = subprocess.run(
        ["rabbitmqctl", *args], check=True, capture_output=True, text=True, timeout=60
    )
    return result.stdout.strip()


def memory_alarm_on():
    return "memory" in rabbitmqctl("eval", "rabbit_alarm:get_alarms().")


@contextlib.contextmanager
def memory_alarm():
    """A memory alarm until the block ends; the watermark it had is put back."""
    watermark = rabbitmqctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().")
    if watermark.startswith("{absolute,"):
        restore = ["absolute", watermark.removeprefix("{absolute,").rstrip("}").strip()]
    else:
        restore = [watermark]
    try:
        rabbitmqctl("set_vm_memory_high_watermark", "0.0000001")
        wait_until(memory_alarm_on, timeout=10, interval=0.5, message="memory alarm")
        yield
    finally:
        rabbitmqctl("set_vm_memory_high_watermark", *restore)
        wait_until(lambda: not memory_alarm_on(), timeout=30, interval=0.5, message="alarm over")


def test_a_memory_alarm_holds_the_relay_and_every_row_goes_once_after_it(
    clean_queues, start_relay, world, api
):
    relay = start_relay()
    resident = api(world.a.resident)
    body = {"category": "heating", "description": "No heat", "urgency": "urgent"}
    assert resident.post("/api/v1/repairs/", body, format="json").status_code == 201  # warm
    with transaction.atomic():
        [warm_up] = publish(probe_event("probe.happened", {"key": "before-the-alarm"}))
    wait_until(lambda: OutboxMessage.objects.get(id=warm_up.id).published_at, message="relay up")

    with memory_alarm():
        alarm_started = time.monotonic()
        # A web request during the alarm answers at once: it writes its rows and
        # never waits on the broker.
        started = time.monotonic()
        response = resident.post("/api/v1/repairs/", body, format="json")
        assert response.status_code == 201, response.data
        assert time.monotonic() - started < 1.0
        with transaction.atomic():
            backlog = [
                publish(probe_event("probe.happened", {"key": f"alarm-{i}"}))[0] for i in range(300)
            ]
        time.sleep(max(0.0, ALARM_SECONDS - (time.monotonic() - alarm_started)))
        waiting = OutboxMessage.objects.filter(published_at__isnull=True)
        assert waiting.count() >= len(backlog)  # nothing is confirmed while blocked
        assert "blocks publishing" in relay.logs()

    wait_until(
        lambda: not OutboxMessage.objects.filter(published_at__isnull=True).exists(),
        timeout=30,
        message="every row published after the alarm",
    )
    # Each row reached its queue once: the relay sent nothing while blocked, and what
    # it had sent before it knew was confirmed, not sent again.
    expected = OutboxMessage.objects.filter(queue="reporting").count()
    wait_until(lambda: queue_depth("reporting") >= expected, message="all in the queue")
    time.sleep(2)
    assert queue_depth("reporting") == expected
