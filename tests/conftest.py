"""Fixtures for tests against the real PostgreSQL and RabbitMQ, and the two-property world
most API and permission tests run in.

Broker tests run on their own vhost (tests/settings.py), recreated at the start of the
session, and start real Celery worker processes against the test database.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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
from tests.factories import STAFF_ROLES, PropertyFactory, UnitFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
WORKER_LOG_DIR = ROOT / "var" / "test-logs"


def wait_until(predicate, timeout=20.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


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


class WorkerProcess:
    def __init__(self, queues, concurrency, database_name, extra_env):
        self.queues = queues
        self.terminated = False
        self.name = f"test-{uuid.uuid4().hex[:8]}"
        WORKER_LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = WORKER_LOG_DIR / f"{self.name}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database_name}",
            "TEST_BROKER_VHOST": settings.TEST_BROKER_VHOST,
            **extra_env,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "propmgmt", "worker",
            "-Q", ",".join(queues), "-c", str(concurrency), "-P", "prefork",
            "-n", f"{self.name}@%h", "--include", "tests.probe.tasks",
            "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        ]  # fmt: skip
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout=30):
        def consuming():
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early; see {self.log_path}:\n{self.logs()}")
            with broker_connection() as connection:
                channel = connection.channel()
                counts = [channel.queue_declare(queue=q, passive=True)[2] for q in self.queues]
                channel.close()
            return all(counts)

        wait_until(consuming, timeout, interval=0.2, message=f"worker on {self.queues}")
        return self

    def logs(self):
        return self.log_path.read_text()

    def pool_pids(self):
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def kill(self):
        """SIGKILL the whole worker (main process and pool) at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.log.close()

    def terminate(self):
        """Ask the worker, once, for a warm shutdown (it finishes its tasks); see stop()."""
        if self.process.poll() is None and not self.terminated:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.terminated = True

    def stop(self):
        self.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.log.close()


# The per-channel notification queues (celeryconfig.py), as the notification workers
# consume them; `notifications` only drains single-notification messages of old.
NOTIFICATION_QUEUES = ("notifications_email", "notifications_sms", "notifications_in_app")


class RelayProcess:
    """A real `manage.py outbox_relay` against the test database, as `make run` starts it."""

    def __init__(self, database_name, log_name, extra_env):
        WORKER_LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = WORKER_LOG_DIR / f"{log_name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "outbox_relay"],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database_name}",
                "TEST_BROKER_VHOST": settings.TEST_BROKER_VHOST,
                **extra_env,
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def logs(self):
        return self.log_path.read_text()

    def wait_listening(self, timeout=60):
        """Until the relay LISTENs: a commit from then on wakes it."""

        def listening():
            if self.process.poll() is not None:
                raise AssertionError(f"relay exited early:\n{self.logs()}")
            return "listening for outbox notifications" in self.logs()

        wait_until(listening, timeout, message="relay listening")
        return self

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


@pytest.fixture
def start_worker(broker_vhost, transactional_db):
    """Start real worker processes on queues; all are stopped after the test.

    The first worker of a test also starts an outbox relay, as `make run` does, so that
    what the test commits reaches the broker; `relay=False` for a test that publishes
    by hand (say to build a backlog first)."""
    from django.db import connection

    started = []
    relays = []

    def start(*queues, concurrency=1, env=None, wait=True, relay=True):
        database_name = connection.settings_dict["NAME"]
        if relay and not relays:
            relays.append(RelayProcess(database_name, f"relay-worker-{uuid.uuid4().hex[:8]}", {}))
        worker = WorkerProcess(queues, concurrency, database_name, env or {})
        worker.relay = relays[0] if relays else None
        started.append(worker)
        if wait:
            worker.wait_ready()
            for process in relays:
                process.wait_listening()
        return worker

    yield start
    # The test is over: stop cold. A warm shutdown costs seconds a worker (each billiard
    # pool process sleeps 1 s before it exits, its supervisor polls every 0.8 s); the tests
    # of warm shutdown signal their worker themselves (tests/ops/test_graceful_worker.py).
    for process in [*started, *relays]:
        process.kill()
    queues_forget_killed_consumers({queue for worker in started for queue in worker.queues})


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
        a=a, b=make_site("b"), admin=UserFactory(role=Role.ADMIN),
        neighbour=UserFactory(unit=UnitFactory(property=a.property)),
    )  # fmt: skip


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
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000"):  # fmt: skip
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
