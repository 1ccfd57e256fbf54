"""The relay is woken by the commit (PostgreSQL LISTEN/NOTIFY), not by its sweep: real
relay processes whose sweep interval is far longer than the tests' waits."""

import pytest
from django.db import connection, transaction

from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import publish
from tests.conftest import wait_until
from tests.probe.events import probe_event

pytestmark = pytest.mark.broker

NEVER = "3600"  # seconds between sweeps: only a notification can explain a publish


def committed(key):
    with transaction.atomic():
        return publish(probe_event("probe.happened", {"key": key}))[0]


def published_by(relay, row):
    stored = OutboxMessage.objects.get(id=row.id)
    return stored.published_at and f"published probe.record[{row.id}]" in relay.logs()


def test_relay_publishes_a_commit_at_once_woken_by_its_notification(clean_queues, start_relay):
    relay = start_relay(OUTBOX_RELAY_INTERVAL=NEVER)
    first = committed("first")
    wait_until(lambda: published_by(relay, first), message="first row published")
    # The relay is now waiting for its next sweep, an hour away; a commit wakes it.
    second = committed("second")
    wait_until(lambda: published_by(relay, second), message="published on notification")


def test_relay_listens_again_after_losing_its_connection(clean_queues, start_relay):
    relay = start_relay(OUTBOX_RELAY_INTERVAL=NEVER)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'outbox_relay_listener' AND datname = current_database()"
        )
        assert cursor.rowcount == 1
    wait_until(
        lambda: relay.logs().count("listening for outbox notifications") == 2,
        message="listening again",
    )
    row = committed("after-reconnect")
    wait_until(lambda: published_by(relay, row), message="published on notification")
