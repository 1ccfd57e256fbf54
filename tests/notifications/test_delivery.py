"""notification_request / notification_deliver in process: rendering, channels,
preferences, status history and the sent-once rule."""

import pytest
from django.core import mail

from apps.messaging.models import OutboxMessage
from apps.notifications.channels import channel_backend
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.services import (
    NotificationRequestError,
    notification_attempt_failed,
    notification_deliver,
    notification_mark_failed,
    notification_request,
)
from tests.factories import NotificationPreferenceFactory

pytestmark = pytest.mark.django_db


def statuses(notification):
    return [h.status for h in notification.history.order_by("at", "id")]


def test_email_is_sent_once_with_text_and_html(world):
    user = world.a.resident
    notification = notification_request(
        channel="email",
        template="account_confirmation",
        variables={"name": "Alice <A&B>", "confirm_url": "http://x/confirm?a=1&b=2"},
        category="account",
        user=user,
    )
    assert notification.status == "pending" and notification.address == ""
    event = OutboxMessage.objects.get(event="notification.email_batch_requested")
    assert event.payload[0]["data"] == {"notification_ids": [str(notification.id)]}

    notification_deliver(notification.id)
    notification_deliver(notification.id)  # redelivered: not sent again

    [message] = mail.outbox
    assert message.to == [user.email] and "Confirm your propmgmt account" in message.subject
    assert "Hello Alice <A&B>" in message.body  # text is not HTML-escaped
    assert "http://x/confirm?a=1&b=2" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and "Alice &lt;A&amp;B&gt;" in html
    notification.refresh_from_db()
    assert notification.status == "sent" and notification.sent_at and notification.attempts == 1
    assert statuses(notification) == ["pending", "processing", "sent"]


def test_every_template_renders_with_its_variables(world):
    cases = {
        "account_confirmation": {"name": "A", "confirm_url": "u"},
        "account_exists": {"name": "A", "login_url": "u"},
        "visitor_arrived_security": {
            "visitor_name": "V",
            "unit": "U1",
            "property": "P",
            "arrived_at": "10:00",
        },
        "visitor_arrived_host": {
            "visitor_name": "V",
            "unit": "U1",
            "property": "P",
            "arrived_at": "10:00",
        },
        "repair_requested_staff": {"repair_id": 1, "category": "plumbing", "urgency": "high"},
        "repair_urgent_manager": {"repair_id": 1, "category": "plumbing"},
        "repair_status_resident": {"repair_id": 1, "status": "resolved", "category": "plumbing"},
        "complaint_filed_staff": {"complaint_id": 1, "category": "noise"},
        "complaint_updated_resident": {"complaint_id": 1, "change": "status", "status": "resolved"},
        "generic": {"content": "Hello"},
    }
    for template, variables in cases.items():
        n = notification_request(
            channel="email",
            template=template,
            variables=variables,
            category="general",
            user=world.a.resident,
        )
        assert n.subject and n.body_text and n.body_html, template
    sms = notification_request(
        channel="sms",
        template="repair_urgent_manager",
        variables=cases["repair_urgent_manager"],
        category="repair_urgent",
        address="+15550100",
    )
    assert len(sms.body_text) <= 160
    with pytest.raises(NotificationRequestError):
        notification_request(
            channel="email", template="nope", variables={}, category="general", address="a@b.c"
        )


def test_in_app_request_is_its_delivery(world):
    n = notification_request(
        channel="in_app",
        template="generic",
        variables={"content": "hi"},
        category="general",
        user=world.a.resident,
    )
    n.refresh_from_db()
    assert n.status == "sent" and n.read_at is None
    # A delivery message for it (queued before issue 27, or replayed) sends nothing again.
    notification_deliver(n.id)
    n.refresh_from_db()
    assert n.status == "sent" and n.attempts == 1


def test_preferences_defaults_and_opt_outs(world):
    user = world.a.resident
    user.phone = "+15550101"
    user.save()

    def request(channel, category, **kw):
        return notification_request(
            channel=channel,
            template="generic",
            variables={"content": "x"},
            category=category,
            user=user,
            **kw,
        )

    assert request("email", "repair") is not None
    assert request("in_app", "visitor") is not None
    assert request("sms", "repair") is None  # SMS is off by default...
    assert request("sms", "repair_urgent").address == ""  # ...but on for urgent repairs
    assert request("sms", "general", explicit=True) is not None  # ...or when asked for
    NotificationPreferenceFactory(user=user, category="repair_urgent", channel="sms")
    assert request("sms", "repair_urgent") is None  # an explicit opt-out wins
    NotificationPreferenceFactory(user=user, category="repair", channel="sms", enabled=True)
    assert request("sms", "repair") is not None
    NotificationPreferenceFactory(user=user, category="account", channel="email")
    assert request("email", "account") is not None  # account messages are mandatory
    user.phone = ""
    user.save()
    NotificationPreference.objects.filter(user=user).delete()
    assert request("sms", "repair_urgent") is None  # no phone: nothing to send to


def test_failed_attempts_and_failure_are_recorded_and_sent_stays_sent(world):
    n = notification_request(
        channel="sms",
        template="generic",
        variables={"content": "x"},
        category="general",
        address="+15550100",
    )
    notification_attempt_failed(n.id, "SmsWebhookTransientError: 503", retry_in=2)
    notification_mark_failed(n.id, "retries exhausted: 503")
    n.refresh_from_db()
    # Attempts count provider calls started (none here); failures record outcomes.
    assert n.status == "failed" and n.attempts == 0 and "exhausted" in n.last_error
    assert statuses(n) == ["pending", "pending", "failed"]
    # Never attempted (a delivery stopped before it): said so, not "attempt 0 failed".
    detail = n.history.order_by("at", "id")[1].detail
    assert detail == "not attempted: SmsWebhookTransientError: 503; retry in 2s"

    notification_deliver(n.id)  # a replay of the dead letter delivers a failed one
    n.refresh_from_db()
    assert n.status == "sent" and n.last_error == ""
    notification_mark_failed(n.id, "late failure")
    n.refresh_from_db()
    assert n.status == "sent"


def test_sms_console_backend_writes_a_line(world, settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    n = notification_request(
        channel="sms",
        template="generic",
        variables={"content": "Boiler fixed"},
        category="general",
        address="+15550100",
    )
    notification_deliver(n.id)
    line = (tmp_path / "sms.log").read_text()
    assert "+15550100" in line and "Boiler fixed" in line and str(n.id) in line
    assert Notification.objects.get(id=n.id).status == "sent"
    assert channel_backend("email").__class__.__name__ == "EmailBackend"
