"""SIGTERM to a worker in the middle of a long task: the task finishes (warm shutdown),
or, when its pool process is signalled too, goes back to its queue; either way it is
done exactly once."""

import os
import signal

import pytest
from django.db import transaction

from apps.messaging.publisher import publish
from tests.conftest import queue_depth, wait_until
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect

pytestmark = pytest.mark.broker


def long_task_started(worker, key, seconds):
    with transaction.atomic():
        [row] = publish(probe_event("probe.slow", {"key": key, "seconds": seconds}))
    wait_until(lambda: f"Task probe.slow_record[{row.id}] received" in worker.logs())
    wait_until(lambda: queue_depth("reporting") == 0, message="the message taken")
    return row


def test_sigterm_to_the_worker_lets_the_task_in_hand_finish(clean_queues, start_worker):
    worker = start_worker("reporting")
    row = long_task_started(worker, "term-main", seconds=4)
    os.kill(worker.pid, signal.SIGTERM)  # what `docker compose stop` sends
    assert worker.popen.wait(30) == 0
    assert f"Task probe.slow_record[{row.id}] succeeded" in worker.logs()
    assert ProbeEffect.objects.filter(key="term-main").count() == 1
    # Nothing left to do again.
    assert queue_depth("reporting") == 0
    start_worker("reporting")
    assert ProbeEffect.objects.filter(key="term-main").count() == 1


def test_sigterm_to_the_whole_process_group_returns_the_task_to_its_queue(
    clean_queues, start_worker
):
    first = start_worker("reporting")
    long_task_started(first, "term-group", seconds=6)
    os.killpg(first.pid, signal.SIGTERM)  # e.g. a supervisor signalling the group
    first.popen.wait(30)
    assert ProbeEffect.objects.filter(key="term-group").count() == 0
    wait_until(lambda: queue_depth("reporting") == 1, message="the message back in its queue")
    start_worker("reporting")
    wait_until(lambda: ProbeEffect.objects.filter(key="term-group").exists(), timeout=60)
    assert ProbeEffect.objects.filter(key="term-group").count() == 1
