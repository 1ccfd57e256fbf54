"""Probe consumers: real tasks on the shared base task, used by broker tests."""

import logging
import os
import signal
import time

from celery import shared_task
from django.db import connection

from apps.messaging.contracts import event_decode
from apps.messaging.correlation import get_correlation_id
from tasks.base import ConsumerTask
from tests.probe.models import ProbeEffect, ProbeSwitch

logger = logging.getLogger(__name__)


class ProbeTransientError(ConnectionError):
    pass


def _effect(task, key, label=""):
    ProbeEffect.objects.create(
        key=key,
        message_id=task.request.id,
        correlation_id=get_correlation_id() or "",
        priority=label,
    )


def _switch(name):
    return ProbeSwitch.objects.filter(name=name, on=True).exists()


def _record(self, event):
    _effect(self, event.key, event.label)
    logger.info("probe effect %s", event.key)


# The same consumer under two names, so that it can be routed to two queues.
record = shared_task(bind=True, name="probe.record")(_record)
record_repair = shared_task(bind=True, name="probe.record_repair")(_record)


@shared_task(bind=True, name="probe.slow_record")
def slow_record(self, event):
    # Sleeps inside the transaction, so a kill mid-task leaves no effect behind.
    _effect(self, event.key)
    time.sleep(5 if event.seconds is None else event.seconds)


@shared_task(bind=True, name="probe.fail_unless_fixed")
def fail_unless_fixed(self, event):
    if not _switch("fixed"):
        raise ValueError("the probe is broken until the 'fixed' switch is on")
    _effect(self, event.key)


@shared_task(bind=True, name="probe.flaky", max_retries=2)
def flaky(self, event):
    raise ProbeTransientError("downstream unavailable")


flaky.transient_errors = (ProbeTransientError,)


@shared_task(bind=True, name="probe.crash")
def crash(self, event):
    # A poison message: the pool process dies every time it runs this.
    os.kill(os.getpid(), signal.SIGKILL)


class OnceFailing(ConsumerTask):
    """Fails transiently on the first attempt; its one retry waits the fixed `retry_in`
    seconds its message asks for (60 by default), a level of RETRY_DELAY_LEVELS."""

    abstract = True
    transient_errors = (ProbeTransientError,)

    def retry_delay(self):
        [envelope] = self.request.args
        return event_decode(envelope).retry_in


@shared_task(bind=True, base=OnceFailing, name="probe.transient_once")
def transient_once(self, event):
    if not self.request.retries:
        raise ProbeTransientError("first attempt fails")
    _effect(self, event.key, f"retry{self.request.retries}")


@shared_task(bind=True, name="probe.slow_repair")
def slow_repair(self, event):
    _record(self, event)
    time.sleep(0.2 if event.seconds is None else event.seconds)


@shared_task(bind=True, name="probe.db_blip", retry_jitter=False, retry_backoff_factor=1)
def db_blip(self, event):
    # The first attempt loses its database connection, as in a PostgreSQL restart.
    if not self.request.retries:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    _effect(self, event.key, f"retry{self.request.retries}")


@shared_task(bind=True, name="probe.fail_slowly", max_retries=0)
def fail_slowly(self, event):
    # No retries: a database outage during it goes straight to dead-lettering.
    time.sleep(event.seconds)
    raise ValueError("the probe always fails")


class DiesAfterCommit(ConsumerTask):
    """Its work commits (ledger row and effect), then its pool process dies before the
    worker can acknowledge the message; a copy that finds the work done does not die."""

    abstract = True

    def after_return(self, *args, **kwargs):
        if getattr(self, "ran_here", False):
            os.kill(os.getpid(), signal.SIGKILL)


@shared_task(bind=True, base=DiesAfterCommit, name="probe.die_after_commit")
def die_after_commit(self, event):
    _record(self, event)
    self.ran_here = True
