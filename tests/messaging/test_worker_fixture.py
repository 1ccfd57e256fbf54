"""The `start_worker` fixture stops its workers cold after a test: what a killed worker
held must not reach a later test's worker on the same queue."""

import pytest
from django.db import transaction

from apps.messaging.publisher import publish
from tests.conftest import queue_depth, queues_forget_killed_consumers, wait_until
from tests.probe.events import probe_event

pytestmark = pytest.mark.broker


def test_a_task_in_hand_at_teardown_is_not_left_for_the_next_test(clean_queues, start_worker):
    worker = start_worker("reporting")
    with transaction.atomic():
        [row] = publish(probe_event("probe.slow", {"key": "in-hand", "seconds": 30}))
        publish(probe_event("probe.happened", {"key": "waiting"}))
    wait_until(lambda: f"Task probe.slow_record[{row.id}] received" in worker.logs())
    worker.kill()  # as the fixture does once the test is over
    queues_forget_killed_consumers({"reporting"})
    # The broker had put both back (the one in hand, the one prefetched): none is left.
    assert queue_depth("reporting") == 0
