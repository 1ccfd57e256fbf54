"""Announcements through real RabbitMQ queues, worker processes and the outbox relay:
times are set relative to the real clock (the workers' own)."""

import datetime
import time
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from apps.accounts.models import User
from apps.announcements import services
from apps.announcements.models import Announcement, AnnouncementRecipient
from apps.messaging.deadletters import dead_letter_replay, dead_letters_list
from apps.messaging.models import DeliveryAttempt, OutboxMessage, ProcessedMessage
from apps.notifications.models import Notification
from apps.properties.models import Residency, Unit
from tests.announcements.helpers import announce, batch_messages, deliveries, notifications_about
from tests.conftest import NOTIFICATION_QUEUES, queue_depth, wait_until
from tests.factories import NotificationPreferenceFactory

pytestmark = pytest.mark.broker


def status_of(announcement):
    return Announcement.objects.get(pk=announcement.pk).status


def quiet_hours(prop, *, ends_in):
    """Quiet hours that began an hour ago and end `ends_in` from now (whole seconds)."""
    local = timezone.now().astimezone(ZoneInfo(prop.time_zone))
    prop.quiet_hours_start = (local - datetime.timedelta(hours=1)).time()
    end = (local + ends_in).replace(microsecond=0) + datetime.timedelta(seconds=1)
    prop.quiet_hours_end = end.time()
    prop.save()
    return end


def residents(prop, count):
    """`count` residents moved into new units of `prop` (bulk: fast)."""
    tag = prop.code
    units = Unit.objects.bulk_create(
        Unit(property=prop, code=f"{tag}-B{i}", floor=str(i % 10)) for i in range(count)
    )
    password = make_password("x")
    users = User.objects.bulk_create(
        User(username=f"{tag}-r{i}", email=f"{tag}-r{i}@example.com", password=password)
        for i in range(count)
    )
    start = timezone.localdate() - datetime.timedelta(days=1)
    Residency.objects.bulk_create(
        Residency(resident=user, unit=unit, start_date=start)
        for user, unit in zip(users, units, strict=True)
    )
    return users


def test_scheduled_send_goes_out_at_its_time(world, clean_queues, start_worker, start_relay):
    start_worker("announcements")
    start_worker(*NOTIFICATION_QUEUES)
    start_relay()
    announcement = announce(world)
    send_at = timezone.now() + datetime.timedelta(seconds=3)
    services.announcement_schedule(announcement, by=world.a.staff["manager"], send_at=send_at)
    time.sleep(1.5)
    assert status_of(announcement) == "scheduled"
    assert not AnnouncementRecipient.objects.filter(announcement=announcement).exists()
    wait_until(lambda: status_of(announcement) == "sent", timeout=20, message="sent")
    announcement.refresh_from_db()
    assert announcement.sending_started_at >= send_at
    wait_until(
        lambda: notifications_about(announcement).filter(status="sent").count() == 2,
        message="both residents' in-app notifications delivered",
    )


def test_cancel_before_its_time_sends_nothing(world, clean_queues, start_worker, start_relay):
    start_worker("announcements")
    start_relay()
    announcement = announce(world)
    send_at = timezone.now() + datetime.timedelta(seconds=2)
    services.announcement_schedule(announcement, by=world.a.staff["manager"], send_at=send_at)
    services.announcement_cancel(announcement, by=world.a.staff["manager"])
    [row] = OutboxMessage.objects.filter(event="announcement.send")
    wait_until(
        lambda: ProcessedMessage.objects.filter(message_id=str(row.id)).exists(),
        timeout=20,
        message="the delayed send message consumed",
    )
    assert status_of(announcement) == "cancelled"
    assert not AnnouncementRecipient.objects.filter(announcement=announcement).exists()
    assert not notifications_about(announcement).exists()


def test_cancel_during_sending_stops_the_batches_not_started(world, clean_queues, start_worker):
    residents(world.a.property, 4)
    announcement = announce(world)
    manager = world.a.staff["manager"]
    with transaction.atomic(), override_settings(ANNOUNCEMENT_BATCH_SIZE=2):
        services.announcement_send_now(announcement, by=manager)
        services.announcement_plan(announcement.pk)
    first, *rest = batch_messages(announcement)
    assert len(rest) == 2
    with transaction.atomic():
        services.announcement_batch_send(announcement.pk, first["batch"], first["user_ids"])
    services.announcement_cancel(announcement, by=manager)
    start_worker("announcements")
    wait_until(
        lambda: (
            queue_depth("announcements") == 0
            and not announcement.batches.filter(done_at__isnull=True).exists()
        ),
        message="every batch consumed",
    )
    assert list(announcement.batches.values_list("skipped", flat=True)) == [False, True, True]
    assert notifications_about(announcement).count() == 2
    assert status_of(announcement) == "cancelled"


def test_a_recipient_deleted_after_planning_is_skipped_by_the_worker(
    world, clean_queues, start_worker
):
    """The batch is consumed, not dead-lettered: the announcement is sent to the others
    and counts the one gone."""
    announcement = announce(world)
    with transaction.atomic():
        services.announcement_send_now(announcement, by=world.a.staff["manager"])
        services.announcement_plan(announcement.pk)
    world.neighbour.delete()
    start_worker("announcements")
    wait_until(lambda: status_of(announcement) == "sent", timeout=30, message="sent")
    assert queue_depth("announcements.dlq") == 0
    assert deliveries(announcement) == {(world.a.resident.pk, "in_app"): 1}
    assert announcement.batches.get().recipients_gone == 1


def test_quiet_hours_hold_email_then_release_it(world, clean_queues, start_worker, start_relay):
    start_worker("announcements")
    start_worker(*NOTIFICATION_QUEUES)
    start_relay()
    end = quiet_hours(world.a.property, ends_in=datetime.timedelta(seconds=4))
    announcement = announce(world, by_email=True, units=[world.a.unit])
    services.announcement_send_now(announcement, by=world.a.staff["manager"])
    sent = notifications_about(announcement).filter(status="sent")
    in_app = wait_until(lambda: sent.filter(channel="in_app").first(), message="in-app now")
    assert in_app.sent_at < end
    assert not sent.filter(channel="email").exists()  # held
    email = wait_until(
        lambda: sent.filter(channel="email").first(), timeout=20, message="email after quiet hours"
    )
    assert email.sent_at >= end


def test_emergency_bypasses_quiet_hours_and_opt_outs(
    world, clean_queues, start_worker, start_relay
):
    start_worker("announcements")
    start_worker(*NOTIFICATION_QUEUES)
    start_relay()
    quiet_hours(world.a.property, ends_in=datetime.timedelta(hours=2))
    resident = world.a.resident
    NotificationPreferenceFactory(user=resident, category="emergency", channel="email")
    emergency = announce(world, category="emergency", title="Gas leak: leave now", by_email=True)
    services.announcement_send_now(emergency, by=world.a.staff["manager"])
    sent = notifications_about(emergency).filter(user=resident, status="sent")
    wait_until(lambda: sent.count() == 2, timeout=20, message="in-app and email, now")
    rows = OutboxMessage.objects.filter(
        event="announcement.batch", payload__0__data__announcement_id=emergency.pk
    )
    assert {row.priority for row in rows} == {9}


def test_throttle_folds_into_a_digest_sent_when_the_hour_frees(
    world, clean_queues, start_worker, start_relay
):
    start_worker("announcements", env={"ANNOUNCEMENT_THROTTLE_PER_HOUR": "1"})
    start_worker(*NOTIFICATION_QUEUES)
    start_relay()
    quiet_hours(world.a.property, ends_in=datetime.timedelta(seconds=-2 * 3600))  # not quiet
    manager = world.a.staff["manager"]
    earlier = announce(world, title="Earlier notice", units=[world.a.unit])
    services.announcement_send_now(earlier, by=manager)
    wait_until(lambda: status_of(earlier) == "sent", message="earlier sent")
    # It went out 59 min 56 s ago, as far as the throttle's hour is concerned.
    frees_at = timezone.now() + datetime.timedelta(seconds=4)
    AnnouncementRecipient.objects.filter(announcement=earlier).update(
        created_at=frees_at - datetime.timedelta(hours=1)
    )
    over = announce(world, title="Bins moved", units=[world.a.unit])
    services.announcement_send_now(over, by=manager)
    wait_until(lambda: status_of(over) == "sent", message="over-limit one processed")
    assert not notifications_about(over).exists()
    digests = Notification.objects.filter(user=world.a.resident, template="announcement_digest")
    time.sleep(1)
    assert not digests.exists()
    digest = wait_until(
        lambda: digests.filter(status="sent").first(),
        timeout=20,
        message="digest when the hour frees",
    )
    assert digest.sent_at >= frees_at and "Bins moved" in digest.body_text
    assert AnnouncementRecipient.objects.get(announcement=over).in_app_notification == digest


@pytest.mark.slow
def test_worker_killed_mid_broadcast_and_dead_letters_replayed_deliver_each_once(
    world, clean_queues, start_worker
):
    """The worker is killed in a batch; with no redelivery allowed that batch (and any it
    had prefetched) dead-letters; the rest go on; the dead letters are replayed. Each
    recipient gets each channel exactly once."""
    users = residents(world.a.property, 118)
    env = {"ANNOUNCEMENT_BATCH_SIZE": "30", "MESSAGE_MAX_REDELIVERIES": "0"}
    first = start_worker("announcements", env=env)
    announcement = announce(world, by_email=True)
    services.announcement_send_now(announcement, by=world.a.staff["manager"])

    def a_batch_in_hand():
        # A batch is in hand once its worker has committed the hold on it (a worker killed
        # before that held nothing: its message goes back as if never delivered).
        done = announcement.batches.filter(done_at__isnull=False).count()
        started = DeliveryAttempt.objects.filter(consumer="announcements.send_batch").count()
        return done >= 1 and started > done

    wait_until(a_batch_in_hand, timeout=60, interval=0.01, message="a batch in hand")
    first.kill()
    assert announcement.batches.filter(done_at__isnull=True).exists()
    start_worker("announcements", env=env)
    wait_until(
        lambda: queue_depth("announcements.dlq") >= 1,
        timeout=30,
        message="the batch in hand dead-lettered",
    )
    wait_until(lambda: queue_depth("announcements") == 0, timeout=120, message="the rest done")
    letters = dead_letters_list("announcements")
    assert letters and all("redelivered" in letter["reason"] for letter in letters)
    for letter in letters:
        dead_letter_replay("announcements", letter["message_id"], via="test")
    wait_until(lambda: status_of(announcement) == "sent", timeout=120, message="sent")
    expected = {u.pk for u in users} | {world.a.resident.pk, world.neighbour.pk}
    counted = deliveries(announcement)
    assert set(counted.values()) == {1}
    assert set(counted) == {(user, c) for user in expected for c in ("in_app", "email")}
    assert notifications_about(announcement).count() == 2 * len(expected)
