"""Batches through real workers, one per channel queue: a slow SMS provider holds up only
SMS; a worker killed mid-batch or a batch replayed from the dead-letter queue still sends
each recipient once per channel; a delayed batch waits for the relay."""

import datetime
import time

import pytest
from django.db import transaction
from django.utils import timezone

from apps.messaging.deadletters import dead_letter_replay, dead_letters_list
from apps.messaging.models import OutboxMessage
from apps.notifications.models import Notification
from apps.notifications.services import notifications_request_for
from tests.conftest import queue_depth, wait_until
from tests.factories import OutboxMessageFactory, UserFactory

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def request_for(users, channel, **options):
    with transaction.atomic():
        return notifications_request_for(
            users,
            channel=channel,
            template="generic",
            variables={"content": "Lift B out"},
            category="announcement",
            explicit=channel == "sms",
            **options,
        )


def residents(count, prefix="+1555"):
    return [UserFactory(phone=f"{prefix}{i:06}") for i in range(count)]


def statuses(notifications):
    rows = Notification.objects.filter(id__in=[n.id for n in notifications])
    return sorted(rows.values_list("status", flat=True))


def webhook_env(webhook, **env):
    return {
        "NOTIFICATION_SMS_BACKEND": "apps.notifications.channels.WebhookSmsBackend",
        "SMS_WEBHOOK_URL": webhook.url,
        "SMS_WEBHOOK_TIMEOUT": "10",
        **env,
    }


def test_slow_sms_does_not_hold_up_email_and_in_app(clean_queues, start_worker, webhook, tmp_path):
    webhook.status, webhook.delay = 200, 2.0
    start_worker("notifications_sms", env=webhook_env(webhook))
    start_worker(
        "notifications_email",
        env={
            "NOTIFICATION_EMAIL_BACKEND": "apps.notifications.channels.FileEmailBackend",
            "NOTIFICATION_EMAIL_FILE_PATH": str(tmp_path),
        },
    )
    start_worker("notifications_in_app")
    sms = request_for(residents(4), "sms")  # one batch: 4 calls of 2 s in turn
    others = UserFactory.create_batch(20)
    email, in_app = request_for(others, "email"), request_for(others, "in_app")

    wait_until(
        lambda: set(statuses(email + in_app)) == {"sent"},
        timeout=60,
        message="email and in-app delivered",
    )
    assert "pending" in statuses(sms) or "processing" in statuses(sms)  # SMS still going
    wait_until(lambda: set(statuses(sms)) == {"sent"}, timeout=60, message="SMS delivered")
    rows = Notification.objects.filter(id__in=[n.id for n in sms + email + in_app])
    last_fast = max(rows.exclude(channel="sms").values_list("sent_at", flat=True))
    assert last_fast < max(rows.filter(channel="sms").values_list("sent_at", flat=True))
    assert len(list(tmp_path.iterdir())) == 20


@pytest.mark.slow
def test_worker_killed_mid_batch_sends_each_email_once(clean_queues, start_worker, tmp_path):
    mail_dir = tmp_path / "mail"
    worker = start_worker(
        "notifications_email",
        env={
            "NOTIFICATION_EMAIL_BACKEND": "tests.probe.backends.CrashingFileEmail",
            "NOTIFICATION_EMAIL_FILE_PATH": str(mail_dir),
            "PROBE_CRASH_MARKER": str(tmp_path / "crashed"),
        },
    )
    email = request_for(UserFactory.create_batch(25), "email")
    assert OutboxMessage.objects.filter(event="notification.email_batch_requested").count() == 1
    wait_until(lambda: set(statuses(email)) == {"sent"}, timeout=60, message="batch sent")
    assert (tmp_path / "crashed").exists()
    assert "WorkerLostError" in worker.logs() or "exited" in worker.logs()
    written = sorted(p.stem.partition("@")[0] for p in mail_dir.iterdir())
    assert written == sorted(str(n.id) for n in email)  # one message per recipient
    # Every attempt of the batch was committed before the crash: resent with the same key.
    assert set(Notification.objects.filter(channel="email").values_list("attempts", flat=True)) == {
        2
    }


def test_provider_without_keys_killed_mid_batch_leaves_one_unknown(
    clean_queues, start_worker, webhook, tmp_path
):
    webhook.status = 200
    start_worker(
        "notifications_sms",
        env=webhook_env(
            webhook,
            NOTIFICATION_SMS_BACKEND="tests.probe.backends.CrashingWebhookSmsWithoutKeys",
            PROBE_CRASH_MARKER=str(tmp_path / "crashed"),
        ),
    )
    sms = request_for(residents(5), "sms")
    wait_until(
        lambda: "pending" not in statuses(sms) and "processing" not in statuses(sms),
        timeout=60,
        message="batch settled",
    )
    # Without keys, one notification's attempt at a time is open: only the one in flight
    # when the worker died is unknown; the others were sent once, none blind twice.
    assert statuses(sms) == ["sent"] * 4 + ["unknown"]
    numbers = [body["to"] for _, body in webhook.received]
    assert sorted(numbers) == sorted(n.user.phone for n in sms)


def test_dead_lettered_batch_replay_sends_only_the_failed(clean_queues, start_worker, webhook):
    webhook.status = 200
    webhook.failing = {"+1555000001"}
    start_worker(
        "notifications_sms",
        env=webhook_env(
            webhook,
            NOTIFICATION_MAX_RETRIES="1",
            NOTIFICATION_RETRY_BACKOFF="0",
        ),
    )
    sms = request_for(residents(3), "sms")
    wait_until(lambda: queue_depth("notifications_sms.dlq") == 1, timeout=60, message="dead letter")
    assert statuses(sms) == ["failed", "sent", "sent"]
    failed = Notification.objects.get(status="failed")
    assert failed.user.phone == "+1555000001" and "503" in failed.last_error
    assert failed.attempts == 2  # the first try and one retry; the sent ones were not retried
    assert sorted(n.attempts for n in Notification.objects.filter(status="sent")) == [1, 1]

    webhook.failing = set()
    [letter] = dead_letters_list("notifications_sms")
    dead_letter_replay("notifications_sms", letter["message_id"], via="test")
    wait_until(lambda: statuses(sms) == ["sent"] * 3, timeout=30, message="replayed")
    time.sleep(1)
    for notification in sms:
        assert len(webhook.delivered(str(notification.id))) == 1


def test_not_before_holds_delivery_until_the_relay_publishes_it(
    clean_queues,
    start_worker,
    start_relay,
):
    start_worker("notifications_in_app")
    start_relay()
    not_before = timezone.now() + datetime.timedelta(seconds=6)
    in_app = request_for(UserFactory.create_batch(3), "in_app", not_before=not_before)
    row = OutboxMessage.objects.get()
    while timezone.now() < not_before - datetime.timedelta(seconds=1):
        assert statuses(in_app) == ["pending"] * 3
        time.sleep(0.2)
    wait_until(lambda: statuses(in_app) == ["sent"] * 3, timeout=40, message="sent when due")
    row.refresh_from_db()
    assert row.published_at >= not_before
    assert min(n.sent_at for n in Notification.objects.all()) >= not_before


def test_a_single_notification_row_from_before_batches_is_still_delivered(
    clean_queues, start_worker
):
    start_worker("notifications")  # worker-notifications-email drains it in the Procfile
    with transaction.atomic():
        [notification] = request_for(
            [UserFactory()], "in_app", not_before=timezone.now() + datetime.timedelta(hours=1)
        )
    # An outbox row as the code before batches wrote it (the relay publishes what it finds).
    old = OutboxMessageFactory(
        event="notification.requested",
        task_name="notifications.deliver",
        queue="notifications",
        payload=[
            {
                "event": "notification.requested",
                "occurred_at": timezone.now().isoformat(),
                "data": {"notification_id": str(notification.id)},
            }
        ],
        priority=5,
        correlation_id="before-batches",
    )
    wait_until(lambda: statuses([notification]) == ["sent"], timeout=30, message="delivered")
    old.refresh_from_db()
    assert old.published_at is not None
