"""The front desk on real workers: the resident is told a parcel arrived (in-app always,
email by their preferences, after quiet hours), and the desk's beat jobs remind and list
parcels to return once however often they run."""

import datetime
import time

import pytest
from django.utils import timezone

from apps.front_desk.models import Parcel
from apps.messaging.models import ProcessedMessage
from apps.notifications.models import Notification, NotificationPreference
from propmgmt.celery import app
from tests.conftest import NOTIFICATION_QUEUES, queue_depth, wait_until
from tests.fixtures.demo import day_end

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/parcels/"


def processed(consumer):
    return ProcessedMessage.objects.filter(consumer=consumer).count()


def no_quiet_hours(prop):
    prop.quiet_hours_start = prop.quiet_hours_end = datetime.time(0)
    prop.save()


@pytest.fixture
def desk(clean_queues, start_worker):
    start_worker("front_desk", *NOTIFICATION_QUEUES, concurrency=2)


def test_the_resident_is_told_each_parcel_with_its_pickup_code(desk, world, api):
    no_quiet_hours(world.a.property)
    r = api(world.a.staff["security"]).post(
        URL,
        {"unit": world.a.unit.pk, "carrier": "fedex", "tracking_numbers": ["FX1", "FX2"]},
        format="json",
    )
    assert r.status_code == 201, r.data
    code = Parcel.objects.get(pk=r.data[0]["id"]).pickup_code
    resident = world.a.resident
    told = Notification.objects.filter(user=resident, template="parcel_arrived_resident")
    wait_until(
        lambda: told.filter(status="sent").count() == 4,
        timeout=30,
        message="in-app and email for both parcels",
    )
    assert sorted(told.values_list("channel", flat=True)) == ["email", "email", "in_app", "in_app"]
    assert all(code in n.body_text for n in told)
    assert not told.filter(channel="sms").exists()  # SMS is off unless the resident opts in
    # The resident reads it in the API and the desk hands the parcel over with the code.
    inbox = api(resident).get("/api/v1/notifications/").json()["results"]
    assert sum(code in n["body_text"] for n in inbox if n["category"] == "parcel") == 2
    handed = api(world.a.staff["security"]).post(
        f"{URL}{r.data[0]['id']}/pick-up/", {"code": code}, format="json"
    )
    assert handed.status_code == 200, handed.data
    assert queue_depth("front_desk.dlq") == 0


def test_email_waits_for_quiet_hours_and_in_app_does_not(desk, world, api):
    prop = world.a.property
    prop.quiet_hours_start, prop.quiet_hours_end = datetime.time(0), datetime.time(23, 59)
    prop.save()
    NotificationPreference.objects.create(
        user=world.a.resident, category="parcel", channel="sms", enabled=True
    )
    world.a.resident.phone = "+15550199"
    world.a.resident.save()
    r = api(world.a.staff["security"]).post(
        URL, {"unit": world.a.unit.pk, "carrier": "ups", "tracking_numbers": ["Q1"]}, format="json"
    )
    assert r.status_code == 201
    told = Notification.objects.filter(user=world.a.resident, template="parcel_arrived_resident")
    wait_until(
        lambda: told.filter(channel="in_app", status="sent").exists(),
        timeout=30,
        message="the in-app notice",
    )
    assert sorted(told.values_list("channel", "status")) == [
        ("email", "pending"),
        ("in_app", "sent"),
        ("sms", "pending"),
    ]


def test_an_email_opt_out_is_respected(desk, world, api):
    no_quiet_hours(world.a.property)
    NotificationPreference.objects.create(
        user=world.a.resident, category="parcel", channel="email", enabled=False
    )
    api(world.a.staff["security"]).post(
        URL, {"unit": world.a.unit.pk, "carrier": "ups", "tracking_numbers": ["O1"]}, format="json"
    )
    wait_until(lambda: processed("front_desk.notify_parcel_arrived") == 1, message="consumed")
    told = Notification.objects.filter(user=world.a.resident, template="parcel_arrived_resident")
    assert list(told.values_list("channel", flat=True)) == ["in_app"]


def _waiting_since(site, days, numbers, api):
    r = api(site.staff["security"]).post(
        URL, {"unit": site.unit.pk, "carrier": "dhl", "tracking_numbers": numbers}, format="json"
    )
    ids = [p["id"] for p in r.data]
    Parcel.objects.filter(pk__in=ids).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )
    return ids


def test_reminders_run_twice_remind_once(desk, world, api):
    no_quiet_hours(world.a.property)
    old = _waiting_since(world.a, 4, ["OLD1", "OLD2"], api)
    _waiting_since(world.a, 1, ["NEW1"], api)
    wait_until(lambda: processed("front_desk.notify_parcel_arrived") == 3, message="arrivals")
    for _ in range(2):
        app.send_task("front_desk.parcel_reminders_send", kwargs={"days": 3}, expires=60)
    wait_until(lambda: processed("front_desk.parcel_reminders_send") == 2, message="both runs")
    reminders = Notification.objects.filter(template="parcel_reminder_resident", channel="in_app")
    assert reminders.count() == 2
    assert sorted(n.variables["parcel_id"] for n in reminders) == sorted(old)
    assert Parcel.objects.filter(reminded_at__isnull=False).count() == 2


def test_the_desk_list_of_parcels_to_return_goes_once_a_day(desk, world, api):
    stale = _waiting_since(world.a, 15, ["STALE1"], api)
    _waiting_since(world.a, 2, ["FRESH1"], api)
    for _ in range(2):
        app.send_task("front_desk.parcel_return_lists_send", kwargs={"days": 14}, expires=60)
    wait_until(lambda: processed("front_desk.parcel_return_lists_send") == 2, message="both runs")
    lists = Notification.objects.filter(template="parcel_return_list_staff")
    desk_staff = {world.a.staff["security"], world.a.staff["manager"]}
    assert {n.user for n in lists} == desk_staff and lists.count() == len(desk_staff)
    assert "STALE1" in lists[0].body_text and "FRESH1" not in lists[0].body_text
    # The desk returns it: a workflow step.
    r = api(world.a.staff["security"]).post(f"{URL}{stale[0]}/return/", {}, format="json")
    assert r.status_code == 200 and r.data["status"] == "returned"


def arrived_ago():
    """How long ago the test's parcels arrived: two hours, but today. The consumer counts a
    parcel received on the day it was logged, and the reports recount it on the day of its
    `created_at`: moved back across midnight it would be counted on two days. In a day's
    first five minutes this waits for them to pass."""
    now = timezone.localtime()
    today_so_far = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
    if today_so_far < datetime.timedelta(minutes=5):
        time.sleep((datetime.timedelta(minutes=5) - today_so_far).total_seconds())
        return arrived_ago()
    return min(datetime.timedelta(hours=2), today_so_far - datetime.timedelta(seconds=30))


def test_the_parcel_report_is_kept_current_by_the_reporting_consumer(
    clean_queues, start_worker, world, api
):
    from apps.reporting.services import report_period_reconcile

    start_worker("reporting")
    day_end()  # not in a day's last minutes: the parcels come and go on one day
    ago = arrived_ago()
    desk = api(world.a.staff["security"])
    ids = [
        p["id"]
        for p in desk.post(
            URL,
            {"unit": world.a.unit.pk, "carrier": "ups", "tracking_numbers": ["R1", "R2", "R3"]},
            format="json",
        ).data
    ]
    backdated = time.monotonic()
    Parcel.objects.filter(pk__in=ids).update(created_at=timezone.now() - ago)
    code = Parcel.objects.get(pk=ids[0]).pickup_code
    for parcel_id in ids[:2]:
        assert (
            desk.post(f"{URL}{parcel_id}/pick-up/", {"code": code}, format="json").status_code
            == 200
        )
    late = time.monotonic() - backdated
    assert desk.post(f"{URL}{ids[2]}/return/", {}, format="json").status_code == 200
    wait_until(lambda: processed("reporting.record_event") == 6, message="6 parcel events")
    today = timezone.localdate().isoformat()
    manager = api(world.a.staff["manager"])
    r = manager.get(
        "/api/v1/reports/parcels/",
        {"property": world.a.property.pk, "from": today, "to": today, "group_by": "day"},
    )
    assert r.status_code == 200, r.content
    [row] = r.json()
    assert (row["received"], row["picked_up"], row["returned"]) == (3, 2, 1)
    # Picked up `ago` (and the seconds the test took) after arrival: within a histogram
    # bucket's width (10%).
    waited = ago.total_seconds()
    assert 0.9 * waited < row["pickup_median_seconds"] <= row["pickup_p90_seconds"]
    assert row["pickup_p90_seconds"] < 1.1 * (waited + late)
    assert report_period_reconcile(timezone.localdate(), timezone.localdate())["counters"] == 0
    assert queue_depth("reporting.dlq") == 0
