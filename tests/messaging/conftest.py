import pytest
from django.conf import settings
from django.db import connection

import celeryconfig
from tests.conftest import RelayProcess

# Test-only events, each subscribed by one probe consumer on a real queue.
PROBE_EVENTS = {
    "probe.happened": ("probe.record", "reporting"),
    "probe.slow": ("probe.slow_record", "reporting"),
    "probe.breakable": ("probe.fail_unless_fixed", "complaints"),
    "probe.flaky": ("probe.flaky", "notifications"),
    "probe.poison": ("probe.crash", "visitor_management"),
    "probe.repair": ("probe.record_repair", "repair_requests"),
    "probe.retried": ("probe.transient_once", "repair_requests"),
    "probe.slow_repair": ("probe.slow_repair", "repair_requests"),
    "probe.db_blip": ("probe.db_blip", "reporting"),
    "probe.fail_slowly": ("probe.fail_slowly", "complaints"),
    "probe.done_then_lost": ("probe.die_after_commit", "reporting"),
}


@pytest.fixture(autouse=True)
def probe_events(monkeypatch):
    for event, (task, queue) in PROBE_EVENTS.items():
        monkeypatch.setitem(celeryconfig.EVENT_SUBSCRIPTIONS, event, [task])
        monkeypatch.setitem(celeryconfig.TASK_QUEUES, task, queue)


@pytest.fixture
def empty_vhost(broker_vhost):
    """A vhost of its own with nothing declared; this process's broker calls use it."""
    from urllib.parse import quote

    from django.test import override_settings

    from apps.messaging.broker import vhost_delete, vhost_ensure

    name = f"{settings.TEST_BROKER_VHOST}_empty"
    vhost_delete(name)
    vhost_ensure(name)
    url = f"amqp://guest:guest@127.0.0.1:5672/{quote(name, safe='')}"
    with override_settings(CELERY_BROKER_URL=url):
        yield name
    vhost_delete(name)


@pytest.fixture
def start_relay(broker_vhost, transactional_db):
    """Start real `manage.py outbox_relay` processes (logs relay-0, relay-1 ...) against
    the test database; each is listening for notifications when returned."""
    started = []

    def start(**env):
        relay = RelayProcess(connection.settings_dict["NAME"], f"relay-{len(started)}", env)
        started.append(relay)
        return relay.wait_listening()

    yield start
    for relay in started:
        relay.kill()  # the test is over: a clean stop only costs time
