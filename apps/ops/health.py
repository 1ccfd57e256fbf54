"""Readiness checks on django-health-check's HealthCheck: the library runs them
concurrently, each within its timeout; the queue figures are cached briefly
(selectors.queue_status_cached) so that polling every few seconds stays cheap."""

import collections
import dataclasses
import datetime
import threading
import time

from django.conf import settings
from django.db import connection
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from apps.messaging.broker import broker_connection, connect_first_answering
from apps.messaging.selectors import outbox_stats
from apps.ops import selectors

_TIMEOUT = datetime.timedelta(seconds=5)


def _queues():
    try:
        return selectors.queue_status_cached()
    except Exception as exc:
        raise ServiceUnavailable(f"queues not readable: {type(exc).__name__}") from exc


@dataclasses.dataclass
class Broker(HealthCheck):
    """An AMQP connection to the broker opens."""

    timeout: datetime.timedelta = dataclasses.field(default=_TIMEOUT, repr=False)

    def run(self):
        try:
            with broker_connection() as conn:
                connect_first_answering(conn, self.timeout.total_seconds())
        except Exception as exc:
            raise ServiceUnavailable(f"broker not reachable: {type(exc).__name__}") from exc


@dataclasses.dataclass
class Consumers(HealthCheck):
    """Every work queue exists and has at least one consumer."""

    timeout: datetime.timedelta = dataclasses.field(default=_TIMEOUT, repr=False)

    def run(self):
        idle = [q["name"] for q in selectors.work_queues(_queues()) if not q["consumers"]]
        if idle:
            raise ServiceUnavailable(f"no consumer on {', '.join(sorted(idle))}")


@dataclasses.dataclass
class Outbox(HealthCheck):
    """The oldest due unpublished outbox row is younger than OPS_OUTBOX_MAX_AGE seconds,
    and no row is parked."""

    timeout: datetime.timedelta = dataclasses.field(default=_TIMEOUT, repr=False)

    def run(self):
        try:
            backlog = outbox_stats()
        finally:
            # Checks run in the library's worker threads: leave no connection behind.
            connection.close()
        if backlog["oldest_unpublished_age"] > settings.OPS_OUTBOX_MAX_AGE:
            raise ServiceUnavailable(
                f"{backlog['unpublished']} unpublished rows, oldest "
                f"{backlog['oldest_unpublished_age']:.0f}s old"
            )
        if backlog["parked"]:
            raise ServiceUnavailable(f"{backlog['parked']} parked outbox rows")


class _DepthHistory:
    """Dead-letter queue depths seen by this process over the last window."""

    def __init__(self):
        self._samples = collections.deque()
        self._lock = threading.Lock()

    def growth(self, depths, window):
        """Queues whose depth grew since the oldest sample within `window` seconds."""
        now = time.monotonic()
        with self._lock:
            while self._samples and now - self._samples[0][0] > window:
                self._samples.popleft()
            baseline = self._samples[0][1] if self._samples else depths
            self._samples.append((now, depths))
        return {q: n - baseline.get(q, 0) for q, n in depths.items() if n > baseline.get(q, 0)}

    def clear(self):
        with self._lock:
            self._samples.clear()


dead_letter_history = _DepthHistory()


@dataclasses.dataclass
class DeadLetters(HealthCheck):
    """No dead-letter queue grew within the last OPS_DEAD_LETTER_WINDOW seconds."""

    timeout: datetime.timedelta = dataclasses.field(default=_TIMEOUT, repr=False)

    def run(self):
        depths = {q["name"]: q["messages"] or 0 for q in selectors.dead_letter_queues(_queues())}
        grown = dead_letter_history.growth(depths, settings.OPS_DEAD_LETTER_WINDOW)
        if grown:
            growth = ", ".join(f"{q} +{n}" for q, n in sorted(grown.items()))
            raise ServiceUnavailable(f"dead letters growing: {growth}")


READINESS_CHECKS = (
    ("database", ("health_check.checks.Database", {})),
    ("broker", (Broker, {})),
    ("consumers", (Consumers, {})),
    ("outbox", (Outbox, {})),
    ("dead_letters", (DeadLetters, {})),
)
