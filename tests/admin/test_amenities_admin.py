"""The manager's bookings in the admin: today's day list with local times, this week's,
approve and no-show steps through the service, a closure announced from the admin; only
their property's."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.amenities.models import Amenity, AmenityClosure, Reservation
from apps.messaging.models import OutboxMessage
from apps.properties.models import Property, Unit
from tests.admin.test_admin_roles import OTHER_DAY_ZONES, logged_in
from tests.fixtures.demo import day_end

LIST = "/admin/amenities/reservation/"


def booked(amenity, resident_unit, resident, day, hour, status="confirmed"):
    zone = zoneinfo.ZoneInfo(amenity.property.time_zone)
    start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)
    return Reservation.objects.create(
        amenity=amenity,
        property=amenity.property,
        unit=resident_unit,
        resident=resident,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
        exclusive=amenity.capacity == 1,
        status=status,
    )


def test_todays_day_list_and_steps(demo):
    lift = Amenity.objects.get(property__code="oak", name="Service lift")
    elm_gym = Amenity.objects.get(property__code="elm", name="Gym")
    alice = User.objects.get(username="alice")
    unit = Unit.objects.get(code="OAK-101")
    today = timezone.localdate()
    now_hour = timezone.localtime().hour
    earlier = booked(lift, unit, alice, today, max(now_hour - 1, 0))
    in_three_days = booked(lift, unit, alice, today + datetime.timedelta(days=3), 9, "requested")
    elsewhere = booked(
        elm_gym, Unit.objects.get(code="ELM-1"), User.objects.get(username="carol"), today, 7
    )

    client = logged_in("manager")
    page = client.get(LIST).content.decode()  # today by default
    assert (
        f"{earlier.starts_at.astimezone(zoneinfo.ZoneInfo(lift.property.time_zone)):%H:%M}–" in page
    )
    assert f"/{earlier.pk}/change/" in page
    assert f"/{in_three_days.pk}/change/" not in page
    assert f"/{elsewhere.pk}/change/" not in page  # another property's
    upcoming = client.get(LIST, {"when": "upcoming"}).content.decode()
    assert f"/{in_three_days.pk}/change/" in upcoming
    assert f"/{elsewhere.pk}/change/" not in client.get(LIST, {"when": "all"}).content.decode()

    # Approve: requested → approved → confirmed, told to the resident by the worker.
    url = f"{LIST}{in_three_days.pk}/step/approved/"
    assert client.post(url, {"workflow_apply": "1"}).status_code == 302
    assert Reservation.objects.get(pk=in_three_days.pk).status == "confirmed"
    assert OutboxMessage.objects.filter(
        event="reservation.status_changed",
        payload__0__data__reservation_id=in_three_days.pk,
        payload__0__data__status="confirmed",
    ).exists()
    # No-show only once it has started.
    if earlier.starts_at <= timezone.now():
        client.post(f"{LIST}{earlier.pk}/step/no_show/", {"workflow_apply": "1"})
        assert Reservation.objects.get(pk=earlier.pk).status == "no_show"
    response = client.post(
        f"{LIST}{in_three_days.pk}/step/no_show/", {"workflow_apply": "1"}, follow=True
    )
    assert "started" in response.content.decode()
    assert Reservation.objects.get(pk=in_three_days.pk).status == "confirmed"
    # Another property's booking has no page for this manager.
    assert client.get(f"{LIST}{elsewhere.pk}/change/").status_code in (302, 404)


@pytest.mark.parametrize("zone", OTHER_DAY_ZONES)
def test_today_and_this_week_are_the_propertys_own(demo, zone):
    """The day list's "today" and "this week" are the building's, in its time zone."""
    Property.objects.filter(code="oak").update(time_zone=zone)
    lift = Amenity.objects.get(property__code="oak", name="Service lift")
    alice, unit = User.objects.get(username="alice"), Unit.objects.get(code="OAK-101")
    today = (day_end(zoneinfo.ZoneInfo(zone)) - datetime.timedelta(days=1)).date()
    sunday = today + datetime.timedelta(days=6 - today.weekday())
    tonight, tomorrow, sunday_night, next_monday = (
        booked(lift, unit, alice, day, hour)
        for day, hour in [
            (today, 23),
            (today + datetime.timedelta(days=1), 0),
            (sunday, 22),  # today too, on a Sunday: an hour apart from tonight's
            (sunday + datetime.timedelta(days=1), 1),
        ]
    )

    def listed(when):
        return {
            r.pk for r in logged_in("manager").get(LIST, {"when": when}).context["cl"].result_list
        }

    assert tonight.pk in listed("today") and tomorrow.pk not in listed("today")
    week = listed("week")
    assert {tonight.pk, sunday_night.pk} <= week and next_monday.pk not in week


def test_a_closure_announced_in_the_admin_is_published(demo):
    lift = Amenity.objects.get(property__code="oak", name="Service lift")
    day = timezone.localdate() + datetime.timedelta(days=40)
    client = logged_in("manager")
    response = client.post(
        "/admin/amenities/amenityclosure/add/",
        {
            "amenity": lift.pk,
            "starts_on": day,
            "ends_on": day,
            "reason": "Lift inspection",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    closure = AmenityClosure.objects.get(amenity=lift, reason="Lift inspection")
    assert OutboxMessage.objects.filter(
        event="amenity.closure_announced", payload__0__data__closure_id=closure.pk
    ).exists()
    # Ending before it starts is refused on the form.
    response = client.post(
        "/admin/amenities/amenityclosure/add/",
        {
            "amenity": lift.pk,
            "starts_on": day,
            "ends_on": day - datetime.timedelta(days=1),
            "reason": "x",
        },
    )
    assert response.status_code == 200
