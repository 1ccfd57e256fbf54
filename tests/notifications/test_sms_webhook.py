"""SMS through the webhook backend against a real HTTP server on loopback, with real
worker processes: failures retry, then fail and dead-letter; a replay after the webhook is
back sends once; a message delivered twice sends once; a timeout is a transient error."""

import time

import pytest
from django.db import transaction

from apps.messaging.broker import broker_connection
from apps.messaging.deadletters import dead_letter_replay, dead_letters_list
from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import ConfirmingPublisher
from apps.notifications.models import Notification
from apps.notifications.services import notification_request
from tests.conftest import queue_depth, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sms_worker(clean_queues, start_worker, webhook):
    return start_worker(
        "notifications_sms",
        env={
            "NOTIFICATION_SMS_BACKEND": "apps.notifications.channels.WebhookSmsBackend",
            "SMS_WEBHOOK_URL": webhook.url,
            "SMS_WEBHOOK_TIMEOUT": "1",
            "NOTIFICATION_MAX_RETRIES": "2",
            "NOTIFICATION_RETRY_BACKOFF": "0",
        },
    )


def send_sms(text="Lift out of order"):
    with transaction.atomic():
        notification = notification_request(
            channel="sms",
            template="generic",
            variables={"content": text},
            category="general",
            address="+15550100",
        )
    return str(notification.id)


def test_webhook_down_retries_then_fails_and_replay_sends_once(sms_worker, webhook):
    notification_id = send_sms()
    wait_until(lambda: queue_depth("notifications_sms.dlq") == 1, timeout=40, message="dead letter")
    notification = Notification.objects.get(id=notification_id)
    assert notification.status == "failed" and "503" in notification.last_error
    assert len(webhook.received) == 3  # the first try and two retries
    history = list(notification.history.order_by("at", "id"))
    # Each attempt is committed before the provider is called, and so is its outcome.
    assert [h.status for h in history] == ["pending"] + ["processing", "pending"] * 2 + [
        "processing",
        "failed",
    ]
    assert "attempt 1 failed" in history[2].detail and "503" in history[2].detail
    assert notification.attempts == 3
    [letter] = dead_letters_list("notifications_sms")
    assert "503" in letter["reason"]

    webhook.status = 200
    dead_letter_replay("notifications_sms", letter["message_id"], via="test")
    wait_until(lambda: Notification.objects.get(id=notification_id).status == "sent", timeout=20)
    time.sleep(1)
    assert len(webhook.delivered(notification_id)) == 1


def test_same_message_delivered_twice_sends_once(sms_worker, webhook):
    webhook.status = 200
    notification_id = send_sms()
    wait_until(lambda: Notification.objects.get(id=notification_id).status == "sent")
    row = OutboxMessage.objects.get(event="notification.sms_batch_requested")
    publisher = ConfirmingPublisher(broker_connection().as_uri(include_password=True), 5)
    assert publisher.publish([row]).confirmed == {row.id}  # the broker delivers it again
    publisher.reset()
    wait_until(lambda: f"duplicate message {row.id}" in sms_worker.logs(), message="skipped")
    assert len(webhook.delivered(notification_id)) == 1


def test_webhook_timeout_is_transient(sms_worker, webhook):
    webhook.status, webhook.delay = 200, 2.5  # longer than SMS_WEBHOOK_TIMEOUT
    notification_id = send_sms()
    wait_until(
        lambda: "timed out" in Notification.objects.get(id=notification_id).last_error,
        timeout=20,
        message="a timed-out attempt recorded for retry",
    )
    webhook.delay = 0
    wait_until(
        lambda: Notification.objects.get(id=notification_id).status in ("sent", "failed"),
        timeout=30,
    )
    assert Notification.objects.get(id=notification_id).attempts >= 2


def test_webhook_success_posts_to_body_and_id(sms_worker, webhook):
    webhook.status = 200
    notification_id = send_sms("Water back on")
    wait_until(lambda: Notification.objects.get(id=notification_id).status == "sent")
    [(_, body)] = webhook.received
    assert body == {"to": "+15550100", "body": "Water back on", "notification_id": notification_id}
    notification = Notification.objects.get(id=notification_id)
    assert notification.attempts == 1 and notification.sent_at
    assert [h.status for h in notification.history.order_by("at", "id")] == [
        "pending",
        "processing",
        "sent",
    ]


def test_webhook_4xx_is_permanent_no_retry(sms_worker, webhook):
    webhook.status = 400
    notification_id = send_sms()
    wait_until(lambda: queue_depth("notifications_sms.dlq") == 1, timeout=20, message="dead letter")
    notification = Notification.objects.get(id=notification_id)
    assert notification.status == "failed" and "400" in notification.last_error
    assert len(webhook.received) == 1
