"""Booking from the resident's seat, through the API: the rules (400 naming the field),
the overlap held by PostgreSQL (409), the workflow (409 naming the allowed steps)."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from apps.amenities import services
from apps.amenities.models import Reservation, ReservationStatus
from apps.messaging.models import OutboxMessage
from tests.amenities.helpers import PARIS, amenity, days_ahead, local
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

R = "/api/v1/reservations/"
S = ReservationStatus


@pytest.fixture
def site(world):
    world.a.property.time_zone = "Europe/Paris"
    world.a.property.save()
    return world.a


def book(api, user, room, start, end):
    body = {"amenity": room.pk, "starts_at": start.isoformat(), "ends_at": end.isoformat()}
    return api(user).post(R, body, format="json")


def test_resident_books_and_the_time_is_taken_for_the_next(site, world, api):
    room = amenity(site.property)
    day = days_ahead(3)
    r = book(api, site.resident, room, local(day, 18), local(day, 20))
    assert r.status_code == 201, r.data
    assert (r.data["status"], r.data["time_zone"]) == ("confirmed", "Europe/Paris")
    assert r.data["allowed_transitions"] == ["cancelled"]
    # The neighbour's overlapping hour is refused by the exclusion constraint.
    r = book(api, world.neighbour, room, local(day, 19), local(day, 21))
    assert r.status_code == 409, r.data
    assert "already booked" in r.data["detail"]
    # Touching is not overlapping (half-open ranges).
    assert book(api, world.neighbour, room, local(day, 20), local(day, 21)).status_code == 201
    assert Reservation.objects.filter(amenity=room).count() == 2
    events = set(OutboxMessage.objects.values_list("event", flat=True))
    assert {"reservation.booked", "reservation.reminder_due"} <= events


def test_the_database_refuses_an_overlap_whoever_writes(site):
    room = amenity(site.property)
    day = days_ahead(2)
    fields = {
        "amenity": room,
        "property": site.property,
        "unit": site.unit,
        "resident": site.resident,
        "exclusive": True,
    }
    Reservation.objects.create(starts_at=local(day, 10), ends_at=local(day, 12), **fields)
    with (
        pytest.raises(IntegrityError, match="reservation_exclusive_no_overlap"),
        transaction.atomic(),
    ):
        Reservation.objects.create(starts_at=local(day, 11), ends_at=local(day, 13), **fields)
    # A cancelled one holds nothing.
    Reservation.objects.update(status=S.CANCELLED)
    Reservation.objects.create(starts_at=local(day, 11), ends_at=local(day, 13), **fields)


@pytest.mark.parametrize(
    ("fields", "start", "end", "field", "words"),
    [
        ({}, (7,), (9,), "starts_at", "Outside opening hours"),
        ({}, (21,), (23,), "ends_at", "Outside opening hours"),
        ({}, (10, 30), (11, 30), "starts_at", "slot grid"),
        ({}, (10,), (10, 30), "ends_at", "whole slots"),
        ({}, (10,), (14,), "ends_at", "Too long"),
        ({"booking_horizon_days": 2}, (10,), (11,), "starts_at", "Too far ahead"),
        ({"is_active": False}, (10,), (11,), "amenity", "does not exist"),
    ],
)
def test_a_time_outside_the_rules_is_400_naming_the_field(
    site, api, fields, start, end, field, words
):
    room = amenity(site.property, **fields)
    day = days_ahead(3)
    r = book(api, site.resident, room, local(day, *start), local(day, *end))
    assert r.status_code == 400, r.data
    assert words in r.data[field][0]


def test_closed_days_and_the_past_are_400(site, api):
    room = amenity(site.property)
    day = days_ahead(4)
    services.amenity_closure_announce(
        user=None, amenity=room, starts_on=day, ends_on=day, reason="Floor polishing"
    )
    r = book(api, site.resident, room, local(day, 10), local(day, 11))
    assert r.status_code == 400
    assert "closed" in r.data["starts_at"][0] and "Floor polishing" in r.data["starts_at"][0]
    yesterday = days_ahead(-1)
    r = book(api, site.resident, room, local(yesterday, 10), local(yesterday, 11))
    assert r.status_code == 400 and "future" in r.data["starts_at"][0]


def test_weekly_limit_counts_the_residents_live_bookings_of_the_week(site, api):
    gym = amenity(site.property, name="Gym", kind="gym", capacity=10, weekly_limit=2)
    monday = days_ahead(7) - datetime.timedelta(days=days_ahead(7).weekday())
    for d in (0, 1):
        r = book(
            api,
            site.resident,
            gym,
            local(monday + datetime.timedelta(d), 9),
            local(monday + datetime.timedelta(d), 10),
        )
        assert r.status_code == 201, r.data
    r = book(
        api,
        site.resident,
        gym,
        local(monday + datetime.timedelta(6), 9),
        local(monday + datetime.timedelta(6), 10),
    )
    assert r.status_code == 400 and "Weekly limit" in r.data["starts_at"][0]
    # The next Monday is another week; a cancelled booking frees its place in the count.
    next_monday = monday + datetime.timedelta(7)
    assert (
        book(api, site.resident, gym, local(next_monday, 9), local(next_monday, 10)).status_code
        == 201
    )
    first = Reservation.objects.filter(resident=site.resident).order_by("starts_at").first()
    assert (
        api(site.resident)
        .post(f"{R}{first.pk}/transition/", {"status": "cancelled"}, format="json")
        .status_code
        == 200
    )
    sunday = monday + datetime.timedelta(6)
    assert book(api, site.resident, gym, local(sunday, 9), local(sunday, 10)).status_code == 201


def test_only_residents_in_force_at_the_property_book(site, world, api):
    room = amenity(site.property)
    day = days_ahead(3)
    # Another property's resident: the amenity is none of theirs (400, as for any id).
    r = book(api, world.b.resident, room, local(day, 10), local(day, 11))
    assert r.status_code == 400 and "amenity" in r.data
    # A resident whose residency ended.
    moved_out = UserFactory(unit=UnitFactory(property=site.property))
    moved_out.residencies.update(
        end_date=datetime.date(2020, 1, 1), start_date=datetime.date(2019, 1, 1)
    )
    assert book(api, moved_out, room, local(day, 10), local(day, 11)).status_code == 400
    assert (
        book(api, world.a.staff["manager"], room, local(day, 10), local(day, 11)).status_code == 403
    )


def test_approval_workflow_and_409_naming_the_allowed_steps(site, world, api):
    room = amenity(site.property, needs_approval=True)
    day = days_ahead(5)
    r = book(api, site.resident, room, local(day, 18), local(day, 21))
    assert r.status_code == 201 and r.data["status"] == "requested"
    url = f"{R}{r.data['id']}/transition/"
    manager = site.staff["manager"]
    r = api(manager).post(url, {"status": "no_show"}, format="json")
    assert r.status_code == 409
    assert r.data["allowed_transitions"] == ["approved", "rejected", "cancelled"]
    r = api(site.resident).post(url, {"status": "approved"}, format="json")
    assert r.status_code == 403
    r = api(manager).post(url, {"status": "approved"}, format="json")
    assert r.status_code == 200, r.data
    assert r.data["status"] == "confirmed"
    assert [h["to_status"] for h in r.data["history"]] == ["requested", "approved", "confirmed"]
    # Not started yet: no no-show; maintenance never acts on bookings.
    r = api(manager).post(url, {"status": "no_show"}, format="json")
    assert r.status_code == 409 and "started" in r.data["detail"]
    assert (
        api(site.staff["maintenance"]).post(url, {"status": "cancelled"}, format="json").status_code
        == 403
    )
    reminders = OutboxMessage.objects.filter(event="reservation.reminder_due")
    assert [m.not_before for m in reminders] == [local(day, 17)]


def test_a_resident_cancels_only_before_the_deadline(site, api):
    room = amenity(site.property, cancellation_deadline_hours=24 * 10)
    day = days_ahead(3)
    r = book(api, site.resident, room, local(day, 10), local(day, 11))
    url = f"{R}{r.data['id']}/transition/"
    r = api(site.resident).post(url, {"status": "cancelled"}, format="json")
    assert r.status_code == 409 and "240 hours before" in r.data["detail"]
    # The manager may.
    r = api(site.staff["manager"]).post(url, {"status": "cancelled"}, format="json")
    assert r.status_code == 200 and r.data["status"] == "cancelled"


def test_residents_list_only_their_own(site, world, api):
    room = amenity(site.property)
    day = days_ahead(3)
    mine = book(api, site.resident, room, local(day, 10), local(day, 11)).data["id"]
    book(api, world.neighbour, room, local(day, 12), local(day, 13))
    ids = [r["id"] for r in api(site.resident).get(R).data["results"]]
    assert ids == [mine]
    assert len(api(site.staff["manager"]).get(R).data["results"]) == 2
    assert api(world.b.staff["manager"]).get(R).data["results"] == []


def test_free_slots_of_a_shared_amenity_count_places(site, world, api):
    gym = amenity(
        site.property, name="Gym", capacity=2, opens_at=datetime.time(6), closes_at=datetime.time(9)
    )
    day = days_ahead(2)
    book(api, site.resident, gym, local(day, 6), local(day, 8))
    book(api, world.neighbour, gym, local(day, 7), local(day, 8))
    r = api(site.resident).get(f"/api/v1/amenities/{gym.pk}/slots/", {"date": day.isoformat()})
    assert r.status_code == 200, r.data
    left = {
        datetime.datetime.fromisoformat(s["starts_at"]): s["places_left"] for s in r.data["slots"]
    }
    assert left == {local(day, 6): 1, local(day, 8): 2}
    # 07:00 is full: a third booking there is refused.
    third = UserFactory(unit=UnitFactory(property=site.property))
    assert book(api, third, gym, local(day, 7), local(day, 8)).status_code == 409


@pytest.mark.parametrize(
    ("day", "starts"),
    [
        # Clocks go forward at 02:00 → 03:00: three one-hour slots from 01:00 to 05:00.
        (datetime.date(2027, 3, 28), [(1, 0), (3, 0), (4, 0)]),
        # Clocks go back at 03:00 → 02:00: five, 02:00 twice (summer, then winter time).
        (datetime.date(2027, 10, 31), [(1, 0), (2, 0), (2, 1), (3, 0), (4, 0)]),
        (datetime.date(2027, 6, 6), [(1, 0), (2, 0), (3, 0), (4, 0)]),
    ],
)
def test_slots_on_the_days_clocks_change(site, api, day, starts):
    lift = amenity(
        site.property,
        name="Service lift",
        kind="service_lift",
        booking_horizon_days=365,
        opens_at=datetime.time(1),
        closes_at=datetime.time(5),
    )
    r = api(site.resident).get(f"/api/v1/amenities/{lift.pk}/slots/", {"date": day.isoformat()})
    assert r.status_code == 200, r.data
    got = [datetime.datetime.fromisoformat(s["starts_at"]) for s in r.data["slots"]]
    expected = [local(day, h).replace(fold=fold) for h, fold in starts]
    assert got == [e.astimezone(datetime.UTC) for e in expected]
    assert all(b - a == datetime.timedelta(hours=1) for a, b in zip(got, got[1:], strict=False))
    # Each listed slot can be booked, the repeated hour's second one too.
    last = got[-1]
    r = book(api, site.resident, lift, last, last + datetime.timedelta(hours=1))
    assert r.status_code == 201, r.data
    assert datetime.datetime.fromisoformat(r.data["starts_at"]).astimezone(PARIS).hour == 4
