"""Hostile input to the booking, slots and amenity endpoints: 400 (or 404), never 500."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.amenities.helpers import amenity

pytestmark = pytest.mark.django_db

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.dates().map(str),
    st.lists(st.integers(), max_size=3),
)
EXTREMES = st.sampled_from(
    [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00+14:00",
        "2027-03-28T02:30:00+01:00",
        "2027-10-31T02:00:00",
    ]
)
ENOUGH = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def room(world):
    return amenity(world.a.property)


@ENOUGH
@given(amenity_id=ANY, starts=st.one_of(ANY, EXTREMES), ends=st.one_of(ANY, EXTREMES))
def test_booking_bodies(world, api, room, amenity_id, starts, ends):
    body = {
        "amenity": room.pk if amenity_id is None else amenity_id,
        "starts_at": starts,
        "ends_at": ends,
    }
    r = api(world.a.resident).post("/api/v1/reservations/", body, format="json")
    assert r.status_code in (201, 400, 409), r.content


@ENOUGH
@given(date=st.one_of(st.text(max_size=20), st.dates().map(str), EXTREMES))
def test_slot_days(world, api, room, date):
    r = api(world.a.resident).get(f"/api/v1/amenities/{room.pk}/slots/", {"date": date})
    assert r.status_code in (200, 400), r.content


@ENOUGH
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "opens_at",
                "closes_at",
                "slot_minutes",
                "max_booking_minutes",
                "capacity",
                "booking_horizon_days",
                "weekly_limit",
                "kind",
                "name",
                "cancellation_deadline_hours",
            ]
        ),
        st.one_of(ANY, st.times().map(str), st.integers(min_value=-(2**40), max_value=2**40)),
    )
)
def test_amenity_settings(world, api, room, fields):
    r = api(world.a.staff["manager"]).patch(f"/api/v1/amenities/{room.pk}/", fields, format="json")
    assert r.status_code in (200, 400), r.content


def test_closure_dates(world, api, room):
    today = datetime.date.today()
    for starts, ends in [
        ("0001-01-01", "9999-12-31"),
        (str(today), "9999-12-31"),
        (str(today + datetime.timedelta(3)), str(today)),
    ]:
        body = {"starts_on": starts, "ends_on": ends, "reason": "x"}
        r = api(world.a.staff["manager"]).post(
            f"/api/v1/amenities/{room.pk}/closures/", body, format="json"
        )
        assert r.status_code == 400, r.content
