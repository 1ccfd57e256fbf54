"""Fixtures for tests against the real PostgreSQL and RabbitMQ, and the two-property world
most API and permission tests run in.

Broker tests run on their own vhost (tests/settings.py), recreated at the start of the
session, and start real Celery worker processes against the test database.
"""

import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from amqp.exceptions import NotFound
from django.conf import settings
from django.db import transaction
from rest_framework.test import APIClient

import celeryconfig
from apps.accounts.models import Role, User
from apps.messaging.broker import (
    broker_connection,
    topology_declare,
    topology_queues,
    vhost_delete,
    vhost_ensure,
)
from apps.properties.models import Property, Unit
from devtools.processes import wait_until
from tests.factories import STAFF_ROLES, PropertyFactory, UnitFactory, UserFactory

# The fixtures shared across the test directories.
pytest_plugins = ["tests.fixtures.processes", "tests.fixtures.probes", "tests.fixtures.demo"]


@contextmanager
def module_transaction(django_db_blocker):
    """A transaction around a module's (non-transactional) tests, for data they all start
    from, made once: each test's own transaction nests in it as a savepoint rolled back
    after the test, and this one is rolled back after the module (as Django's
    TestCase.setUpTestData). Hand each test a deep copy of any model instances."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


EVENT_OBSERVER = "test.event_observer"


@pytest.fixture
def observe_events(monkeypatch):
    """Subscribe a test observer to events, so that a test can read the outbox rows of
    events no consumer is subscribed to yet; returns a reader of the observed events."""
    from apps.messaging.models import OutboxMessage

    monkeypatch.setitem(celeryconfig.TASK_QUEUES, EVENT_OBSERVER, "reporting")
    for event, subscribers in list(celeryconfig.EVENT_SUBSCRIPTIONS.items()):
        monkeypatch.setitem(celeryconfig.EVENT_SUBSCRIPTIONS, event, [*subscribers, EVENT_OBSERVER])

    def observed(event=None):
        rows = OutboxMessage.objects.filter(task_name=EVENT_OBSERVER).order_by("created_at")
        return list(rows.filter(event=event) if event else rows)

    return observed


@pytest.fixture(scope="session")
def broker_vhost():
    vhost = settings.TEST_BROKER_VHOST
    vhost_delete(vhost)
    vhost_ensure(vhost)
    topology_declare()
    yield vhost


@pytest.fixture
def clean_queues(broker_vhost):
    """Every queue of the topology (waiting retries too), empty."""

    def purge():
        with broker_connection() as connection:
            channel = connection.channel()
            for queue in topology_queues():
                queue(channel).purge()
            channel.close()

    purge()
    yield
    purge()


def queues_forget_killed_consumers(queues, timeout=10.0):
    """Empty `queues` once their killed consumers are gone: the broker puts back what a
    consumer held when it sees its connection close, and a later test's worker on the same
    queue must not get it (a queue this vhost does not have, nothing to do)."""
    waiting = set(queues)

    def purged():
        with broker_connection() as connection:
            for queue in sorted(waiting):
                channel = connection.channel()
                try:
                    consumers = channel.queue_declare(queue=queue, passive=True)[2]
                except NotFound:  # which closes the channel
                    waiting.discard(queue)
                    continue
                if not consumers:
                    channel.queue_purge(queue)
                    waiting.discard(queue)
                channel.close()
        return not waiting

    wait_until(purged, timeout, message=f"no consumer left on {sorted(waiting)}")


def queue_depth(name):
    with broker_connection() as connection:
        channel = connection.channel()
        _, messages, _ = channel.queue_declare(queue=name, passive=True)
        channel.close()
    return messages


# The per-channel notification queues (celeryconfig.py), as the notification workers
# consume them; `notifications` only drains single-notification messages of old.
NOTIFICATION_QUEUES = ("notifications_email", "notifications_sms", "notifications_in_app")


@pytest.fixture
def api():
    """api(user) -> an APIClient authenticated as `user` (None: anonymous)."""

    def client(user=None):
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return client


@dataclass
class Site:
    property: Property
    unit: Unit
    resident: User
    staff: dict = field(default_factory=dict)


@dataclass
class World:
    a: Site
    b: Site
    admin: User
    neighbour: User  # another resident of property A, in another unit

    def user(self, role, site="a"):
        """The user of `role` at `site` ("a" or "b"); admins belong to no site."""
        if role == "admin":
            return self.admin
        s = getattr(self, site)
        return s.resident if role == "resident" else s.staff[role]


def make_site(name):
    prop = PropertyFactory()
    unit = UnitFactory(property=prop, code=f"{prop.code.upper()}-{name.upper()}1")
    site = Site(property=prop, unit=unit, resident=UserFactory(unit=unit))
    for role in STAFF_ROLES:
        site.staff[role.value] = UserFactory(role=role, property=prop)
    return site


@pytest.fixture
def world(db):
    """Two properties, A and B, each with a unit, its resident and one staff member of every
    role; an admin; and a neighbour (another resident of A, in another unit)."""
    a = make_site("a")
    return World(
        a=a,
        b=make_site("b"),
        admin=UserFactory(role=Role.ADMIN),
        neighbour=UserFactory(unit=UnitFactory(property=a.property)),
    )


@pytest.fixture(scope="module")
def chromium():
    """Debian's headless chromium through selenium (scripts/browser.sh installs it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.fail("chromium/chromedriver not found: run `bash scripts/browser.sh`")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    # The console is read by the tests that look for Content-Security-Policy violations.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    chrome.implicitly_wait(0)
    yield chrome
    chrome.quit()


def csp_violations(chrome):
    """What the browser's console reported against the Content-Security-Policy."""
    return [e["message"] for e in chrome.get_log("browser") if "Content Security Policy" in str(e)]
