"""A slow or hung provider through real workers (the loopback SMTP server of
tests/notifications/conftest.py, honouring no key): an SMTP call is bounded by
EMAIL_TIMEOUT, and a batch stops at its soft time limit with what was done recorded and
the rest re-queued, nothing sent twice and no hard time limit reached."""

import time

import pytest
from django.db import transaction

from apps.notifications.models import Notification
from apps.notifications.services import notifications_request_for
from tests.conftest import wait_until
from tests.factories import UserFactory

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def request_emails(count):
    users = [UserFactory(email=f"tenant{i}@example.com") for i in range(count)]
    with transaction.atomic():
        notifications = notifications_request_for(
            users,
            channel="email",
            template="generic",
            variables={"content": "Gas check"},
            category="announcement",
        )
    return [str(n.id) for n in notifications]


def statuses(ids):
    return sorted(Notification.objects.filter(id__in=ids).values_list("status", flat=True))


def settled(ids):
    return not {"pending", "processing"} & set(statuses(ids))


def test_a_hung_mail_server_times_out_and_the_outcome_is_unknown(
    clean_queues, start_worker, smtp_provider
):
    """The server took the message and never answered: after EMAIL_TIMEOUT the attempt
    ends, its outcome unknown (the server may have accepted it), not sent again."""
    smtp_provider.delay = 60
    start_worker(
        "notifications_email",
        env=smtp_provider.worker_env(
            EMAIL_TIMEOUT="1",
            NOTIFICATION_RETRY_BACKOFF="0",
        ),
    )
    [notification_id] = request_emails(1)
    wait_until(lambda: settled([notification_id]), timeout=20, message="attempt ended")
    notification = Notification.objects.get(id=notification_id)
    assert notification.status == "unknown"
    assert len(smtp_provider.copies(notification_id)) == 1


def test_a_slow_batch_stops_at_the_soft_time_limit_and_requeues_the_rest(
    clean_queues, start_worker, smtp_provider
):
    """Each email takes 1 s, the soft limit is 3 s, the batch 6: the first message sends
    some, the one in flight at the limit is left unknown, the rest go in a new message.
    Every email reached the provider exactly once."""
    smtp_provider.delay = 1.0
    worker = start_worker(
        "notifications_email",
        env=smtp_provider.worker_env(
            NOTIFICATION_SOFT_TIME_LIMIT="3",
            EMAIL_TIMEOUT="10",
            NOTIFICATION_RETRY_BACKOFF="0",
        ),
    )
    ids = request_emails(6)
    wait_until(lambda: settled(ids), timeout=60, message="batch settled")
    time.sleep(1)
    assert [len(smtp_provider.copies(i)) for i in ids] == [1] * 6
    found = statuses(ids)
    assert found.count("sent") >= 4 and set(found) <= {"sent", "unknown"}, found
    logs = worker.logs()
    assert "re-queued" in logs
    assert "Hard time limit" not in logs and "WorkerLostError" not in logs
