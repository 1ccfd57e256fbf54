"""The amenities report (dashboard and API): bookings, cancellations, no-shows and
utilisation per amenity and period, for managers of the property."""

import datetime

import pytest

from apps.amenities.models import AmenityClosure, Reservation
from tests.amenities.helpers import amenity, local

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/amenities/"


def test_counts_and_utilisation_per_amenity_and_week(world, api):
    site = world.a
    site.property.time_zone = "Europe/Paris"
    site.property.save()
    # Open 08:00-12:00 (4 h) with 2 places: 8 place-hours a day.
    gym = amenity(
        site.property,
        name="Gym",
        kind="gym",
        capacity=2,
        opens_at=datetime.time(8),
        closes_at=datetime.time(12),
    )
    monday = datetime.date(2026, 11, 2)
    AmenityClosure.objects.create(
        amenity=gym,
        starts_on=monday + datetime.timedelta(6),
        ends_on=monday + datetime.timedelta(6),
        reason="x",
    )
    fields = {
        "amenity": gym,
        "property": site.property,
        "unit": site.unit,
        "resident": site.resident,
        "exclusive": False,
    }
    for day, hours, status in [
        (0, 2, "completed"),
        (1, 1, "no_show"),
        (2, 3, "cancelled"),
        (3, 2, "confirmed"),
        (7, 1, "completed"),
    ]:
        start = local(monday + datetime.timedelta(day), 8)
        Reservation.objects.create(
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=hours),
            status=status,
            **fields,
        )
    query = {"from": str(monday), "to": str(monday + datetime.timedelta(13)), "group_by": "week"}
    r = api(site.staff["manager"]).get(URL, query)
    assert r.status_code == 200, r.data
    rows = [
        (
            row["period"],
            row["bookings"],
            row["cancellations"],
            row["no_shows"],
            row["booked_hours"],
            row["open_hours"],
            row["utilisation"],
        )
        for row in r.data
        if row["amenity_id"] == gym.pk
    ]
    assert rows == [
        # Sunday closed: 6 days × 8; kept bookings 2 + 1 + 2 hours.
        (str(monday), 4, 1, 1, 5.0, 48.0, round(5 / 48, 4)),
        (str(monday + datetime.timedelta(7)), 1, 0, 0, 1.0, 56.0, round(1 / 56, 4)),
    ]
    # Another property's manager sees none of it; maintenance may not ask.
    other = api(world.b.staff["manager"]).get(URL, query).data
    assert all(row["amenity_id"] != gym.pk for row in other)
    assert api(site.staff["maintenance"]).get(URL, query).status_code == 403
