"""The scheduled duties: each tells the right people once, however often it runs; the
beat schedule installs into the database once and every entry expires before its next
run; the jobs run on a real worker."""

import datetime

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

import celeryconfig
from apps.notifications.models import Notification
from apps.properties.models import Property
from apps.repairs.models import RepairRequest, RepairStatus
from apps.repairs.services import repair_request_submit, repair_transition
from apps.reporting import duties
from apps.visitors.models import Visitor, VisitorStatus
from apps.visitors.services import visitor_walk_in

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def told(template, user=None):
    notifications = Notification.objects.filter(template=template)
    return notifications.filter(user=user) if user else notifications


def test_sla_escalation_tells_managers_once_per_repair_and_level(world):
    urgent = repair_request_submit(
        resident=world.a.resident, category="heating", description="no heat", urgency="urgent"
    )
    normal = repair_request_submit(resident=world.a.resident, category="other", description="x")
    now = timezone.now()
    assert duties.repair_sla_escalate(now + 50 * 60 * datetime.timedelta(seconds=1)) == 0
    assert duties.repair_sla_escalate(now + 61 * datetime.timedelta(minutes=1)) == 1
    assert duties.repair_sla_escalate(now + 2 * HOUR) == 0  # run again: nobody told twice
    assert duties.repair_sla_escalate(now + 25 * HOUR) == 1  # the normal one's level
    assert duties.repair_sla_escalate(now + 26 * HOUR) == 0
    manager = world.user("manager")
    assert told("repair_sla_escalation", manager).count() == 2
    assert not told("repair_sla_escalation", world.user("manager", "b")).exists()
    # An acknowledged repair is not escalated.
    repair_transition(repair=normal, to_status="acknowledged", user=world.user("maintenance"))
    assert RepairRequest.objects.get(pk=urgent.pk).status == RepairStatus.SUBMITTED


def resolved_repair(world, days_ago):
    repair = repair_request_submit(resident=world.a.resident, category="pest", description="x")
    for step in ("acknowledged", "scheduled", "in_progress", "resolved"):
        repair = repair_transition(repair=repair, to_status=step, user=world.user("maintenance"))
    resolved_at = timezone.now() - datetime.timedelta(days=days_ago)
    RepairRequest.objects.filter(pk=repair.pk).update(resolved_at=resolved_at)
    return repair


def test_resolved_repairs_close_after_the_configured_days_unless_reopened(world, settings):
    settings.REPAIR_AUTO_CLOSE_DAYS = 5
    old = resolved_repair(world, 6)
    recent = resolved_repair(world, 2)
    reopened = resolved_repair(world, 1)
    repair_transition(repair=reopened, to_status="reopened", user=world.a.resident)
    RepairRequest.objects.filter(pk=reopened.pk).update(
        resolved_at=timezone.now() - datetime.timedelta(days=9)
    )
    assert duties.repairs_auto_close() == 1
    assert duties.repairs_auto_close() == 0  # twice: closed once
    statuses = dict(RepairRequest.objects.values_list("pk", "status"))
    assert (statuses[old.pk], statuses[recent.pk], statuses[reopened.pk]) == (
        "closed",
        "resolved",
        "reopened",
    )
    last = RepairRequest.objects.get(pk=old.pk).history.last()
    assert last.changed_by is None and "automatically" in last.note


def test_overstaying_visitor_is_reported_to_security_once(world):
    visitor = visitor_walk_in(by=world.user("security"), unit=world.a.unit, name="Guest")
    now = timezone.now()
    assert duties.visitors_overstay_report(now + 11 * HOUR) == 0
    assert duties.visitors_overstay_report(now + 13 * HOUR) == 1
    assert duties.visitors_overstay_report(now + 14 * HOUR) == 0
    assert told("visitor_overstay", world.user("security")).count() == 1
    Visitor.objects.filter(pk=visitor.pk).update(status=VisitorStatus.DEPARTED)


def test_digest_goes_to_each_manager_at_seven_local_time_once_a_day(world):
    Property.objects.filter(pk=world.a.property.pk).update(time_zone="Asia/Tokyo")  # UTC+9
    Property.objects.filter(pk=world.b.property.pk).update(time_zone="Europe/London")  # UTC+0
    repair_request_submit(resident=world.a.resident, category="pest", description="x")
    day = timezone.now().date() + datetime.timedelta(days=1)
    six_utc = datetime.datetime.combine(day, datetime.time(6, 0), datetime.UTC)
    assert duties.manager_digests_send(six_utc - 10 * HOUR) == 0  # Tokyo 05:00
    assert duties.manager_digests_send(six_utc - 8 * HOUR) == 1  # Tokyo 07:00, London 22:00
    assert duties.manager_digests_send(six_utc - 7 * HOUR) == 0  # again: nobody twice
    assert duties.manager_digests_send(six_utc + HOUR) == 1  # London 07:00
    [digest] = told("manager_digest", world.user("manager"))
    assert "Repairs: 1 new, 1 open." in digest.body_text
    assert told("manager_digest", world.user("manager", "b")).count() == 1


@pytest.mark.django_db(transaction=True)  # the scheduler closes old connections
def test_beat_schedule_installs_once_and_every_entry_expires_before_its_next_run():
    from apps.core.beat import InstallOnceScheduler
    from propmgmt.celery import app

    InstallOnceScheduler(app=app, lazy=True).setup_schedule()
    names = set(celeryconfig.beat_schedule)
    assert names <= set(PeriodicTask.objects.values_list("name", flat=True))
    PeriodicTask.objects.filter(name="visitor-overstay").update(enabled=False, expire_seconds=5)
    InstallOnceScheduler(app=app, lazy=True).setup_schedule()  # a restart keeps admin edits
    edited = PeriodicTask.objects.get(name="visitor-overstay")
    assert (edited.enabled, edited.expire_seconds) == (False, 5)
    assert PeriodicTask.objects.filter(name__in=names).count() == len(names)
    for name, entry in celeryconfig.beat_schedule.items():
        schedule = entry["schedule"]
        interval = schedule if isinstance(schedule, int) else _crontab_interval(schedule)
        assert entry["options"]["expires"] < interval, name


def _crontab_interval(schedule):
    """The shortest gap, in seconds, between two runs of a daily crontab."""
    minutes = sorted(h * 60 + m for h in schedule.hour for m in schedule.minute)
    gaps = [b - a for a, b in zip(minutes, minutes[1:], strict=False)]
    return 60 * min([*gaps, minutes[0] + 24 * 60 - minutes[-1]])
