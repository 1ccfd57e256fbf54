"""What a worker costs the database and the broker per message, seen from their side:
PostgreSQL's session counter and RabbitMQ's channel list (real worker processes)."""

from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection, transaction

from apps.messaging.publisher import publish
from tests.conftest import wait_until
from tests.probe.models import ProbeEffect

pytestmark = pytest.mark.broker

MESSAGES = 40


def sessions_opened():
    """Connections PostgreSQL has accepted to the test database so far (PostgreSQL 14+)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_clear_snapshot(); "
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        )
        return cursor.fetchone()[0]


def publish_probes(prefix, count):
    with transaction.atomic():
        for i in range(count):
            publish("probe.happened", {"key": f"{prefix}-{i}"})


def test_a_pool_child_keeps_its_database_connection_between_tasks(clean_queues, start_worker):
    start_worker("reporting")
    publish_probes("warm", 1)
    wait_until(lambda: ProbeEffect.objects.filter(key="warm-0").exists())
    before = sessions_opened()
    publish_probes("reuse", MESSAGES)
    wait_until(lambda: ProbeEffect.objects.filter(key__startswith="reuse-").count() == MESSAGES)
    # Celery's Django fixup closed the connection after every task: one new session
    # per message. Now the child reuses its connection (CONN_MAX_AGE applies).
    assert sessions_opened() - before < 5


def management(path):
    response = requests.get(f"{settings.RABBITMQ_MANAGEMENT_URL}/api/{path}", timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


def open_connection(channel):
    """False for a channel the management API still lists after its connection closed
    (an earlier test's worker, say)."""
    name = channel["connection_details"]["name"]
    return management(f"connections/{quote(name, safe='')}") is not None


def test_task_events_are_published_without_waiting_for_confirms(clean_queues, start_worker):
    start_worker("reporting")
    publish_probes("events", 5)
    wait_until(lambda: ProbeEffect.objects.filter(key__startswith="events-").count() == 5)
    vhost = quote(settings.TEST_BROKER_VHOST, safe="")

    def event_channels():
        # Three events a task; the outbox published only 5 messages.
        channels = management(f"vhosts/{vhost}/channels")
        return [
            c for c in channels
            if "confirm" in c and c.get("message_stats", {}).get("publish", 0) >= 15
            and open_connection(c)
        ]  # fmt: skip

    def event_channels_without_confirms():
        channels = event_channels()
        return channels and not any(c["confirm"] for c in channels)

    # Events are for watching (Flower), sent transient; a publisher confirm per event
    # held the worker's event loop for a round trip three times per task. The management
    # API's statistics lag by a few seconds, also in dropping the channels of an earlier
    # test's relay or worker killed at its teardown: wait for them to settle.
    wait_until(
        event_channels_without_confirms,
        timeout=30,
        message="the event channels in the stats, none of them in confirm mode",
    )
