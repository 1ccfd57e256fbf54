import contextlib
import os
import signal
import socket
import subprocess
import time

import pytest
import requests
from django.conf import settings
from django.db import connection

from apps.ops import selectors
from apps.ops.health import dead_letter_history
from tests.conftest import ROOT, WORKER_LOG_DIR, wait_until
from tests.messaging.conftest import probe_events, start_relay  # noqa: F401

ALL_QUEUES = (
    "user_registration",
    "asset_management",
    "visitor_management",
    "repair_requests",
    "complaints",
    "reporting",
    "notifications",
    "notifications_email",
    "notifications_sms",
    "notifications_in_app",
    "announcements",
    "front_desk",
)


@pytest.fixture(autouse=True)
def fresh_ops_state():
    """Each test sees the broker as it is now, not a cached or sampled earlier state."""
    selectors.queue_status_cache_clear()
    dead_letter_history.clear()
    yield
    selectors.queue_status_cache_clear()
    dead_letter_history.clear()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_env(**extra):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "TEST_BROKER_VHOST": settings.TEST_BROKER_VHOST,
        **extra,
    }


def procfile_command(name, root=ROOT):
    """The Procfile's command for `name`, as `make run` (honcho, via sh) starts it."""
    for line in (root / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise KeyError(name)


class Service:
    """A process started from a Procfile line with its output in var/test-logs; `root`,
    another checkout's (the previous release's) Procfile and code, on this virtualenv."""

    def __init__(self, name, port, root=ROOT, **env):
        WORKER_LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = WORKER_LOG_DIR / f"{name}-{port}.log"
        self.port = port
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        path = f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"
        self.process = subprocess.Popen(
            ["sh", "-c", procfile_command(name, root)],
            cwd=root,
            env=process_env(PATH=path, WEB_PORT=str(port), FLOWER_PORT=str(port), **env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_answering(self, path="/", timeout=30):
        def answers():
            if self.process.poll() is not None:
                raise AssertionError(f"exited early:\n{self.logs()}")
            try:
                return requests.get(self.url(path), timeout=2).status_code < 500
            except requests.RequestException:
                return False

        wait_until(answers, timeout, interval=0.3, message=f"{self.log_path.name} answering")
        return self

    def logs(self):
        return self.log_path.read_text()

    def terminate(self):
        """SIGTERM to the whole group (sh and what it started): a worker's warm shutdown."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)

    def running(self):
        """Any process of the group still alive (sh may exit before the worker it ran)."""
        self.process.poll()
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self, timeout=15):
        self.terminate()
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.running():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.log.close()

    def kill(self):
        """SIGKILL to the whole group: once the test is over, a clean stop only costs time."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.log.close()


@pytest.fixture
def start_service(broker_vhost, transactional_db):
    """Start Procfile processes (web, flower) against the test database and vhost."""
    started = []

    def start(name, path="/", **env):
        service = Service(name, free_port(), **env)
        started.append(service)
        return service.wait_answering(path)

    yield start
    for service in started:
        service.kill()
