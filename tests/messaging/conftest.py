import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def probes_subscribed(probe_events):
    """Every messaging test has the probe consumers (tests/fixtures/probes.py)."""


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
