"""Fan-out in bulk (`notifications_request_for`) and batch delivery (`notifications_deliver`)
in process: one preference query and one outbox row per batch whatever the number of
recipients, opt-outs, emergencies, urgency and delayed delivery; one email connection
per batch."""

import datetime
import math

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.messaging.correlation import reset_urgency, set_urgency
from apps.messaging.models import OutboxMessage
from apps.notifications.models import Notification
from apps.notifications.services import (
    NotificationRequestError,
    notifications_deliver,
    notifications_request_for,
    notifications_request_over,
    preferences_update,
)
from tests.factories import NotificationPreferenceFactory, UserFactory
from tests.probe import backends

pytestmark = pytest.mark.django_db


def announce(users, **options):
    return notifications_request_for(
        users,
        **{
            "channel": "email",
            "template": "generic",
            "variables": {"content": "Water off 9-12"},
            "category": "announcement",
            **options,
        },
    )


def batch_ids(event):
    rows = OutboxMessage.objects.filter(event=event).order_by("created_at")
    return [row.payload[0]["data"]["notification_ids"] for row in rows]


@pytest.mark.parametrize("count", [1, 100, 101, 250])
def test_n_recipients_make_ceil_n_over_batch_messages(settings, count):
    settings.NOTIFICATION_BATCH_SIZE = 100
    users = UserFactory.create_batch(count)
    created = announce(users)
    batches = batch_ids("notification.email_batch_requested")
    assert len(batches) == math.ceil(count / 100) == OutboxMessage.objects.count()
    assert sorted(i for batch in batches for i in batch) == sorted(str(n.id) for n in created)
    assert {n.user_id for n in created} == {u.id for u in users}
    assert Notification.objects.count() == count
    # Each recipient's history starts pending, written in bulk with it.
    assert set(Notification.objects.values_list("history__status", flat=True)) == {"pending"}


def test_sms_batches_are_smaller(settings):
    settings.NOTIFICATION_SMS_BATCH_SIZE = 20
    users = UserFactory.create_batch(45, phone="+15550100")
    announce(users, channel="sms", explicit=True)
    assert [len(b) for b in batch_ids("notification.sms_batch_requested")] == [20, 20, 5]


def test_fan_out_queries_do_not_grow_with_recipients():
    few, many = UserFactory.create_batch(5), UserFactory.create_batch(120)
    for user in few[:2] + many[:2]:
        NotificationPreferenceFactory(user=user, category="announcement", channel="email")
    with CaptureQueriesContext(connection) as for_few:
        assert len(announce(few)) == 3
    with CaptureQueriesContext(connection) as for_many:
        assert len(announce(many)) == 118
    # preferences, notifications, history, one outbox row per batch (2 for 118)
    assert len(for_many) <= len(for_few) + 1, [q["sql"][:80] for q in for_many]


def test_opted_out_users_and_users_without_an_address_are_skipped():
    keen, opted_out = UserFactory(phone="+1555"), UserFactory(phone="+1556")
    no_phone = UserFactory()
    NotificationPreferenceFactory(user=opted_out, category="announcement", channel="sms")
    created = announce([keen, opted_out, no_phone, keen], channel="sms", explicit=True)
    assert [n.user for n in created] == [keen]  # listed twice, sent once
    assert announce([keen], channel="sms") == []  # SMS is off by default for announcements


def test_ignore_preferences_skips_opt_outs_but_not_missing_addresses():
    opted_out, no_phone = UserFactory(phone="+1556"), UserFactory()
    NotificationPreferenceFactory(user=opted_out, category="announcement", channel="sms")
    created = announce([opted_out, no_phone], channel="sms", ignore_preferences=True)
    assert [n.user for n in created] == [opted_out]


def test_one_request_over_several_channels_reads_the_preferences_once():
    """Each channel follows each user's own preference or its default, as one request per
    channel would; the preferences of all the channels are one query."""
    email_off, sms_on = UserFactory(phone="+1558"), UserFactory(phone="+1559")
    both_default, no_phone = UserFactory(phone="+1560"), UserFactory()
    NotificationPreferenceFactory(user=email_off, category="announcement", channel="email")
    NotificationPreferenceFactory(user=sms_on, category="announcement", channel="sms", enabled=True)
    users = [email_off, sms_on, both_default, no_phone]
    with CaptureQueriesContext(connection) as queries:
        created = notifications_request_over(
            users,
            channels=("email", "sms"),
            template="generic",
            variables={"content": "Water off 9-12"},
            category="announcement",
        )
    assert [(n.channel, n.user) for n in created] == [
        ("email", sms_on),
        ("email", both_default),
        ("email", no_phone),
        ("sms", sms_on),  # SMS is off by default for announcements
    ]
    preferences = [q for q in queries if "notifications_notificationpreference" in q["sql"]]
    assert len(preferences) == 1


def test_emergency_is_mandatory_and_on_by_sms_by_default():
    user = UserFactory(phone="+1557")
    with pytest.raises(NotificationRequestError, match="cannot be switched off"):
        preferences_update(user, [{"category": "emergency", "channel": "sms", "enabled": False}])
    NotificationPreferenceFactory(user=user, category="emergency", channel="email")
    assert len(announce([user], category="emergency")) == 1
    assert len(announce([user], category="emergency", channel="sms")) == 1


def test_urgency_becomes_the_message_priority_default_inherited():
    users = UserFactory.create_batch(3)
    announce(users, urgency="urgent")
    announce(users, urgency="low")
    announce(users)
    token = set_urgency("urgent")  # as while consuming an urgent message
    try:
        announce(users, channel="in_app")
    finally:
        reset_urgency(token)
    priorities = {(r.event, r.priority) for r in OutboxMessage.objects.all()}
    assert priorities == {
        ("notification.email_batch_requested", 9),
        ("notification.email_batch_requested", 1),
        ("notification.email_batch_requested", 5),
    }  # in-app notices due now need no message (test_in_app_due_now_is_created_delivered)
    with pytest.raises(ValueError, match="unknown urgency"):
        announce(users, urgency="panic")


def test_not_before_holds_the_delivery_message():
    later = timezone.now() + datetime.timedelta(hours=2)
    [notification] = announce([UserFactory()], not_before=later)
    row = OutboxMessage.objects.get()
    assert row.not_before == later and row.published_at is None
    assert notification.status == "pending"


def test_a_bad_template_creates_nothing():
    with pytest.raises(NotificationRequestError):
        announce([UserFactory()], template="no_such_template")
    assert not Notification.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.parametrize("keyed", [True, False])
def test_a_batch_of_emails_shares_one_connection_and_sends_each_once(settings, keyed):
    backend = backends.KeyedCountingLocmemEmail if keyed else backends.CountingLocmemEmail
    settings.NOTIFICATION_EMAIL_BACKEND = f"tests.probe.backends.{backend.__name__}"
    backends.CountingLocmemEmail.opened = 0
    created = announce(UserFactory.create_batch(30))
    ids = [n.id for n in created]
    with CaptureQueriesContext(connection) as queries:
        assert notifications_deliver(ids) == {}
    assert backends.CountingLocmemEmail.opened == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(n.user.email for n in created)
    if keyed:  # attempts and outcomes in bulk, not per notification
        assert len(queries) < 15
    else:  # each attempt committed alone before its send: a crash leaves one unknown
        assert len(queries) > 30 * 2
    assert notifications_deliver(ids) == {}  # a redelivered batch sends none again
    assert len(mail.outbox) == 30
    sent = Notification.objects.filter(id__in=ids, status="sent", attempts=1)
    assert sent.count() == 30
    assert set(sent.values_list("history__status", flat=True)) == {"pending", "processing", "sent"}


def test_in_app_due_now_is_created_delivered_with_no_message():
    """The inbox is a table of ours: creating the notice is its delivery, in the caller's
    transaction (no delivery message, worker, or second and third transaction)."""
    users = UserFactory.create_batch(3)
    with CaptureQueriesContext(connection) as queries:
        created = announce(users, channel="in_app")
    assert not OutboxMessage.objects.exists()
    assert len(queries) <= 4  # preferences, notifications, their history (one insert each)
    for notification in Notification.objects.filter(id__in=[n.id for n in created]):
        assert notification.status == "sent" and notification.sent_at is not None
        assert notification.attempts == 1
        history = list(notification.history.values_list("status", "detail"))
        assert history == [("pending", "requested"), ("sent", "in_app to inbox")]


def test_in_app_notice_rolls_back_with_the_work_that_decided_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        announce(UserFactory.create_batch(2), channel="in_app")
        raise RuntimeError("the consumer's work failed")
    assert not Notification.objects.exists()


def test_in_app_batch_is_marked_sent_in_bulk():
    # Held until later, in-app notices still go through their queue and worker.
    later = timezone.now() + datetime.timedelta(hours=1)
    created = announce(UserFactory.create_batch(50), channel="in_app", not_before=later)
    assert Notification.objects.filter(status="pending").count() == 50
    with CaptureQueriesContext(connection) as queries:
        notifications_deliver([n.id for n in created])
    assert Notification.objects.filter(status="sent").count() == 50
    assert len(queries) < 15
