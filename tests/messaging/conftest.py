import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

import celeryconfig
from apps.messaging.publisher import _breaker as fast_path_breaker
from tests.conftest import ROOT, WORKER_LOG_DIR

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
}


@pytest.fixture(autouse=True)
def probe_events(monkeypatch):
    for event, (task, queue) in PROBE_EVENTS.items():
        monkeypatch.setitem(celeryconfig.EVENT_SUBSCRIPTIONS, event, [task])
        monkeypatch.setitem(celeryconfig.TASK_QUEUES, task, queue)


@pytest.fixture(autouse=True)
def fast_path_enabled():
    """Each test starts with the after-commit fast path on (a test may trip it)."""
    fast_path_breaker.reset()
    yield
    fast_path_breaker.reset()


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
    """Start real `manage.py outbox_relay` processes against the test database."""
    started = []

    def start(**env):
        WORKER_LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(WORKER_LOG_DIR / f"relay-{len(started)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "manage.py", "outbox_relay"],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
                "TEST_BROKER_VHOST": settings.TEST_BROKER_VHOST,
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        return process

    yield start
    for process, log in started:
        process.terminate()
        process.wait(10)
        log.close()
