"""A broker restart and outage with the real local RabbitMQ (stopped and started).

Marked `broker_restart`; it runs in CI. It needs `rabbitmqctl` (the local server) and
skips, saying so, where the broker is not a local installation.
"""

import shutil
import subprocess

import pytest
from django.db import transaction

from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import publish
from tests.conftest import queue_depth, wait_until
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect

pytestmark = [
    pytest.mark.slow,
    pytest.mark.broker,
    pytest.mark.broker_restart,
    pytest.mark.skipif(not shutil.which("rabbitmqctl"), reason="needs a local RabbitMQ"),
]


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def broker_reachable():
    try:
        queue_depth("reporting")
    except Exception:  # connection refused while the broker starts
        return False
    return True


@pytest.fixture
def broker_stopped():
    rabbitmqctl("stop_app")
    try:
        yield
    finally:
        rabbitmqctl("start_app")
        wait_until(broker_reachable, timeout=60, interval=0.5, message="broker back")


def test_outage_and_restart_lose_nothing(clean_queues, start_relay, start_worker, request):
    # The relay publishes; a persistent message waiting in a durable queue survives the restart.
    start_relay()
    with transaction.atomic():
        [queued] = publish(probe_event("probe.happened", {"key": "before-restart"}))
    wait_until(lambda: queue_depth("reporting") == 1, message="published by the relay")

    request.getfixturevalue("broker_stopped")
    # The request commits while the broker is down: it succeeds and its row waits.
    with transaction.atomic():
        [waiting] = publish(probe_event("probe.happened", {"key": "during-outage"}))
    assert OutboxMessage.objects.get(id=waiting.id).published_at is None
    rabbitmqctl("start_app")
    wait_until(broker_reachable, timeout=60, interval=0.5, message="broker back")

    # The relay's sweep publishes the row that waited; the one from before is still there.
    wait_until(
        lambda: OutboxMessage.objects.get(id=waiting.id).published_at is not None,
        timeout=60,
        message="the waiting row published after the outage",
    )
    assert queue_depth("reporting") == 2
    start_worker("reporting")
    wait_until(
        lambda: (
            ProbeEffect.objects.filter(key__in=["before-restart", "during-outage"]).count() == 2
        ),
        timeout=30,
        message="both processed",
    )
    assert {e.message_id for e in ProbeEffect.objects.all()} == {str(queued.id), str(waiting.id)}
