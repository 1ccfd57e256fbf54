"""What a worker costs the database and the broker per message, seen from their side:
PostgreSQL's session counter and RabbitMQ's channel list (real worker processes)."""

import os
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection, transaction

from apps.messaging.publisher import publish
from tests.conftest import wait_until
from tests.probe.events import probe_event
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
            publish(probe_event("probe.happened", {"key": f"{prefix}-{i}"}))


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


def local_tcp_ports(pids):
    """The local ports of the TCP sockets the processes hold, read from /proc: the
    management API names a connection by its client's address and port."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target.removeprefix("socket:[").removesuffix("]"))
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_task_events_are_published_without_waiting_for_confirms(clean_queues, start_worker):
    worker = start_worker("reporting")
    publish_probes("events", 5)
    wait_until(lambda: ProbeEffect.objects.filter(key__startswith="events-").count() == 5)
    vhost = quote(settings.TEST_BROKER_VHOST, safe="")
    # This worker's connections only: the test process and an earlier test's processes
    # may hold publishing channels of their own in the same vhost.
    ports = local_tcp_ports([worker.pid, *worker.children()])

    def event_channels():
        # Three events a task; the outbox published only 5 messages.
        channels = management(f"vhosts/{vhost}/channels")
        # A channel whose connection just closed has no details (an empty list); one
        # whose statistics arrived before its details has no `confirm` yet: wait for it.
        return [
            c
            for c in channels
            if isinstance(c["connection_details"], dict)
            and "confirm" in c
            and c["connection_details"].get("peer_port") in ports
            and c.get("message_stats", {}).get("publish", 0) >= 15
        ]

    # The management API's channel statistics lag by a few seconds.
    channels = wait_until(event_channels, timeout=30, message="the events in the stats")
    # Events are for watching (Flower), sent transient; a publisher confirm per event
    # held the worker's event loop for a round trip three times per task.
    assert [c["confirm"] for c in channels] == [False] * len(channels)
