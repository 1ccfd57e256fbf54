"""The announcement workflow and fan-out as services, consumed in the test process (the
worker tests in test_workers.py run the same through real queues)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from apps.announcements import selectors, services
from apps.announcements.models import AnnouncementDigest, AnnouncementRecipient
from apps.core.errors import Conflict
from apps.messaging.models import OutboxMessage
from tests.announcements.helpers import (
    announce,
    batch_messages,
    deliveries,
    delivery_message,
    notifications_about,
    run_batches,
)
from tests.factories import NotificationPreferenceFactory, PropertyFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def at_paris(hour, minute=0, day=10):
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("now", "ends"),
    [
        (at_paris(23), at_paris(7, day=11)),
        (at_paris(6, 59), at_paris(7)),
        (at_paris(22), at_paris(7, day=11)),
        (at_paris(7), None),
        (at_paris(12), None),
    ],
)
def test_quiet_hours_end_in_the_property_time_zone(now, ends):
    prop = PropertyFactory.build(time_zone="Europe/Paris")
    assert services.quiet_hours_end(prop, now) == ends


def test_quiet_hours_within_a_day():
    prop = PropertyFactory.build(
        time_zone="Europe/Paris",
        quiet_hours_start=datetime.time(13),
        quiet_hours_end=datetime.time(14),
    )
    assert services.quiet_hours_end(prop, at_paris(13, 30)) == at_paris(14)
    assert services.quiet_hours_end(prop, at_paris(14, 30)) is None


def quiet_free(prop):
    """Quiet hours that never hold anything (start == end)."""
    prop.quiet_hours_start = prop.quiet_hours_end = datetime.time(0)
    prop.save()


def test_fan_out_in_batches_each_recipient_once_per_channel(world):
    quiet_free(world.a.property)
    more = [UserFactory(unit=UnitFactory(property=world.a.property)) for _ in range(3)]
    announcement = announce(world, by_email=True)
    assert selectors.announcement_recipient_count(announcement) == 5
    services.announcement_send_now(announcement, by=world.a.staff["manager"])
    with override_settings(ANNOUNCEMENT_BATCH_SIZE=2):
        services.announcement_plan(announcement.pk)
        services.announcement_plan(announcement.pk)  # a second send message plans nothing
    assert [len(m["user_ids"]) for m in batch_messages(announcement)] == [2, 2, 1]
    run_batches(announcement)
    run_batches(announcement)  # every batch again: nothing new
    residents = {world.a.resident.pk, world.neighbour.pk, *(u.pk for u in more)}
    assert deliveries(announcement) == {
        (user, channel): 1 for user in residents for channel in ("in_app", "email")
    }
    assert notifications_about(announcement).count() == 10
    announcement.refresh_from_db()
    assert announcement.status == "sent" and announcement.sent_at
    counts = selectors.announcement_counts(announcement)
    # The in-app notices are delivered by their creation; the emails wait for their worker.
    assert counts["recipients"] == 5 and (counts["sent"], counts["pending"]) == (5, 5)
    assert (counts["batches"], counts["batches_done"]) == (3, 3)
    # Nobody of property B, no staff (audience residents).
    assert not AnnouncementRecipient.objects.filter(user=world.b.resident).exists()


def test_a_batch_message_for_a_user_already_served_creates_nothing(world):
    announcement = announce(world)
    services.announcement_send_now(announcement, by=world.a.staff["manager"])
    services.announcement_plan(announcement.pk)
    [data] = batch_messages(announcement)
    run_batches(announcement)
    batch = announcement.batches.get()
    batch.done_at = None  # as if another message carried the same users
    batch.save()
    services.announcement_batch_send(announcement.pk, data["batch"], data["user_ids"])
    assert set(deliveries(announcement).values()) == {1}
    assert notifications_about(announcement).count() == 2


def test_narrowing_to_units_or_floors_and_audiences(world):
    prop = world.a.property
    high = UnitFactory(property=prop, floor="9")
    high_resident = UserFactory(unit=high)
    by_unit = announce(world, units=[world.a.unit])
    assert selectors.announcement_recipient_ids(by_unit) == {prop.pk: [world.a.resident.pk]}
    by_floor = announce(world, floors=["9"])
    assert selectors.announcement_recipient_ids(by_floor) == {prop.pk: [high_resident.pk]}
    staff = announce(world, audience="staff")
    assert set(selectors.announcement_recipient_ids(staff)[prop.pk]) == {
        u.pk for u in world.a.staff.values()
    }
    both = announce(world, audience="both")
    assert selectors.announcement_recipient_count(both) == 3 + len(world.a.staff)


def test_managers_announce_only_to_their_properties(world):
    manager = world.a.staff["manager"]
    with pytest.raises(ValidationError):
        announce(world, by=manager, properties=[world.b.property])
    with pytest.raises(ValidationError):
        announce(world, by=manager, units=[world.b.unit])
    with pytest.raises(PermissionDenied):
        announce(world, by=world.a.staff["maintenance"])
    both = announce(world, by=world.admin, properties=[world.a.property, world.b.property])
    with pytest.raises(PermissionDenied):
        services.announcement_send_now(both, by=manager)


def test_illegal_steps_are_409_naming_the_allowed_ones(world):
    announcement = announce(world)
    manager = world.a.staff["manager"]
    services.announcement_cancel(announcement, by=manager)
    with pytest.raises(Conflict) as refused:
        services.announcement_send_now(announcement, by=manager)
    assert "An announcement cannot go from 'cancelled'" in str(refused.value)
    assert refused.value.extra["allowed_transitions"] == []
    with pytest.raises(ValidationError):
        services.announcement_schedule(announce(world), by=manager, send_at=timezone.now())


def test_scheduled_send_waits_in_the_outbox_and_cancel_before_sends_nothing(world):
    announcement = announce(world)
    send_at = timezone.now() + datetime.timedelta(hours=1)
    services.announcement_schedule(announcement, by=world.a.staff["manager"], send_at=send_at)
    [row] = OutboxMessage.objects.filter(event="announcement.send")
    assert row.not_before == send_at and row.published_at is None
    services.announcement_plan(announcement.pk)  # early: not due
    announcement.refresh_from_db()
    assert announcement.status == "scheduled" and announcement.planned_at is None
    services.announcement_cancel(announcement, by=world.a.staff["manager"])
    services.announcement_plan(announcement.pk, now=send_at)
    assert batch_messages(announcement) == []
    assert not notifications_about(announcement).exists()


def test_cancel_during_sending_skips_the_batches_not_started(world):
    for _ in range(3):
        UserFactory(unit=UnitFactory(property=world.a.property))
    announcement = announce(world)
    services.announcement_send_now(announcement, by=world.a.staff["manager"])
    with override_settings(ANNOUNCEMENT_BATCH_SIZE=2):
        services.announcement_plan(announcement.pk)
    first, *rest = batch_messages(announcement)
    services.announcement_batch_send(announcement.pk, first["batch"], first["user_ids"])
    services.announcement_cancel(announcement, by=world.a.staff["manager"])
    run_batches(announcement)
    assert notifications_about(announcement).count() == 2
    announcement.refresh_from_db()
    assert announcement.status == "cancelled"
    assert list(announcement.batches.values_list("skipped", flat=True)) == [False, True, True]


def test_quiet_hours_hold_email_and_sms_but_not_in_app(world):
    prop = world.a.property
    now = timezone.now()
    local = now.astimezone(ZoneInfo(prop.time_zone))
    prop.quiet_hours_start = (local - datetime.timedelta(hours=1)).time()
    prop.quiet_hours_end = (local + datetime.timedelta(hours=2)).time().replace(microsecond=0)
    prop.save()
    announcement = announce(world, by_email=True, by_sms=True)
    world.a.resident.phone = "+15550100"
    world.a.resident.save()
    services.announcement_send_now(announcement, by=world.a.staff["manager"])
    services.announcement_plan(announcement.pk)
    run_batches(announcement, now=now)
    ends = services.quiet_hours_end(prop, now)
    assert ends > now
    mine = notifications_about(announcement).filter(user=world.a.resident)
    holds = {n.channel: delivery_message(n).not_before for n in mine.exclude(channel="in_app")}
    assert holds == {"email": ends, "sms": ends}
    # In-app is not held: delivered by its creation, in quiet hours too.
    assert mine.get(channel="in_app").status == "sent"


def test_emergency_skips_quiet_hours_opt_outs_and_goes_urgent(world):
    prop = world.a.property
    prop.quiet_hours_start, prop.quiet_hours_end = datetime.time(0), datetime.time(23, 59)
    prop.save()
    resident = world.a.resident
    NotificationPreferenceFactory(user=resident, category="emergency", channel="email")
    NotificationPreferenceFactory(user=resident, category="announcement", channel="email")
    emergency = announce(world, category="emergency", title="Gas leak", by_email=True)
    services.announcement_send_now(emergency, by=world.a.staff["manager"])
    services.announcement_plan(emergency.pk)
    run_batches(emergency, now=timezone.make_aware(datetime.datetime(2026, 12, 10, 12)))
    sent = notifications_about(emergency).filter(user=resident)
    assert {n.channel: n.category for n in sent} == {"in_app": "emergency", "email": "emergency"}
    rows = [delivery_message(n) for n in sent.exclude(channel="in_app")]
    assert {(r.priority, r.not_before) for r in rows} == {(9, None)}
    assert sent.get(channel="in_app").status == "sent"  # delivered by its creation
    ordinary = announce(world, title="Bins", by_email=True)
    services.announcement_send_now(ordinary, by=world.a.staff["manager"])
    services.announcement_plan(ordinary.pk)
    run_batches(ordinary)
    assert set(
        notifications_about(ordinary).filter(user=resident).values_list("channel", flat=True)
    ) == {"in_app"}  # opted out of announcements by email


@override_settings(ANNOUNCEMENT_THROTTLE_PER_HOUR=2)
def test_over_the_throttle_is_folded_into_one_digest_sent_when_the_hour_frees(world):
    quiet_free(world.a.property)
    manager = world.a.staff["manager"]
    start = timezone.now()
    sent = []
    for minute in range(4):
        announcement = announce(world, title=f"Notice {minute}", by_email=minute == 3)
        services.announcement_send_now(announcement, by=manager)
        services.announcement_plan(announcement.pk)
        run_batches(announcement, now=start + datetime.timedelta(minutes=minute))
        sent.append(announcement)
    resident = world.a.resident
    assert [notifications_about(a).filter(user=resident).count() for a in sent] == [1, 1, 0, 0]
    digest = AnnouncementDigest.objects.get(user=resident)
    assert digest.due_at == start + datetime.timedelta(hours=1)
    [row] = OutboxMessage.objects.filter(
        event="announcement.digest_due", payload__0__data__digest_id=digest.pk
    )
    assert row.not_before == digest.due_at
    assert selectors.announcement_counts(sent[2])["in_digest"] == 2  # resident and neighbour
    # An emergency is never throttled.
    emergency = announce(world, category="emergency", title="Evacuate")
    services.announcement_send_now(emergency, by=manager)
    services.announcement_plan(emergency.pk)
    run_batches(emergency, now=start + datetime.timedelta(minutes=5))
    assert notifications_about(emergency).filter(user=resident).count() == 1

    services.announcement_digest_send(digest.pk, now=digest.due_at)
    services.announcement_digest_send(digest.pk, now=digest.due_at)  # once
    digest_notifications = resident.notifications.filter(template="announcement_digest")
    assert sorted(digest_notifications.values_list("channel", flat=True)) == ["email", "in_app"]
    in_app = digest_notifications.get(channel="in_app")
    assert "Notice 2" in in_app.body_text and "Notice 3" in in_app.body_text
    third = AnnouncementRecipient.objects.get(announcement=sent[2], user=resident)
    fourth = AnnouncementRecipient.objects.get(announcement=sent[3], user=resident)
    assert third.in_app_notification == fourth.in_app_notification == in_app
    assert third.email_notification is None and fourth.email_notification is not None
    assert selectors.announcement_counts(sent[2])["in_digest"] == 1  # the neighbour's is due


def test_read_by_a_recipient_counts_and_others_are_refused(world):
    announcement = announce(world)
    services.announcement_send_now(announcement, by=world.a.staff["manager"])
    services.announcement_plan(announcement.pk)
    run_batches(announcement)
    services.announcement_mark_read(announcement, user=world.a.resident)
    services.announcement_mark_read(announcement, user=world.a.resident)
    assert selectors.announcement_counts(announcement)["read"] == 1
    with pytest.raises(Conflict):
        services.announcement_mark_read(announcement, user=world.b.resident)
    assert list(selectors.announcements_received_by(world.a.resident)) == [announcement]
    assert list(selectors.announcements_received_by(world.b.resident)) == []


@pytest.mark.django_db(transaction=True)
def test_a_recipient_deleted_after_planning_is_skipped_and_counted(world):
    """The batch commits (it used to fail at commit on the foreign key, dead-letter, and
    fail again on replay, the announcement `sending` for ever)."""
    quiet_free(world.a.property)
    announcement = announce(world)
    services.announcement_send_now(announcement, by=world.a.staff["manager"])
    with transaction.atomic():
        services.announcement_plan(announcement.pk)
    [data] = batch_messages(announcement)
    assert sorted(data["user_ids"]) == sorted([world.a.resident.pk, world.neighbour.pk])
    world.neighbour.delete()
    with transaction.atomic():  # as the consumer: one transaction with its ledger row
        services.announcement_batch_send(announcement.pk, data["batch"], data["user_ids"])
    announcement.refresh_from_db()
    assert announcement.status == "sent"
    assert deliveries(announcement) == {(world.a.resident.pk, "in_app"): 1}
    counts = selectors.announcement_counts(announcement)
    assert (counts["recipients"], counts["gone"], counts["batches_done"]) == (1, 1, 1)


def test_a_send_message_early_by_the_workers_clock_is_rescheduled_not_dropped(world):
    """Clock skew: the relay (whose clock is ahead) published the send at `send_at`; the
    worker's clock says 30 s early. It is published again, held 30 s more by the relay's
    clock, and sent when it comes back."""
    manager = world.a.staff["manager"]
    announcement = announce(world)
    send_at = timezone.now() + datetime.timedelta(hours=1)
    services.announcement_schedule(announcement, by=manager, send_at=send_at)
    early = send_at - datetime.timedelta(seconds=30)
    services.announcement_plan(announcement.pk, now=early)
    announcement.refresh_from_db()
    assert announcement.status == "scheduled"
    rows = OutboxMessage.objects.filter(event="announcement.send").order_by("created_at")
    assert [row.not_before for row in rows] == [send_at, send_at + datetime.timedelta(seconds=30)]
    assert rows[1].priority == rows[0].priority
    services.announcement_plan(announcement.pk, now=send_at + datetime.timedelta(seconds=1))
    announcement.refresh_from_db()
    assert announcement.status == "sending" and len(batch_messages(announcement)) == 1


@override_settings(ANNOUNCEMENT_THROTTLE_PER_HOUR=1, ANNOUNCEMENT_BATCH_SIZE=1)
def test_a_cancelled_announcement_is_not_sent_in_a_digest(world):
    quiet_free(world.a.property)
    manager = world.a.staff["manager"]
    start = timezone.now()
    first = announce(world, title="Notice 1")
    services.announcement_send_now(first, by=manager)
    services.announcement_plan(first.pk)
    run_batches(first, now=start)
    # The second is over the throttle for everyone: its first batch folds one resident
    # into a digest, then it is cancelled before its second batch.
    second = announce(world, title="Notice 2")
    services.announcement_send_now(second, by=manager)
    services.announcement_plan(second.pk)
    folded, _ = batch_messages(second)
    services.announcement_batch_send(second.pk, folded["batch"], folded["user_ids"], now=start)
    [digest] = AnnouncementDigest.objects.filter(user_id__in=folded["user_ids"])
    services.announcement_cancel(second, by=manager)
    services.announcement_digest_send(digest.pk, now=digest.due_at)
    digest.refresh_from_db()
    assert digest.sent_at is not None  # done with, nothing left in it to send
    assert not digest.user.notifications.filter(template="announcement_digest").exists()
