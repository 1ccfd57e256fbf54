"""Twenty residents race for one time: PostgreSQL decides, through the real API, each
client a thread with its own database connection."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.amenities.models import Reservation
from tests.amenities.helpers import amenity, days_ahead, local
from tests.factories import UnitFactory, UserFactory

CLIENTS = 20


def race(residents, room, start, end):
    """Every resident POSTs the same booking at the same moment; the status codes."""
    barrier = threading.Barrier(len(residents))
    codes = []
    body = {"amenity": room.pk, "starts_at": start.isoformat(), "ends_at": end.isoformat()}

    def client(resident):
        api = APIClient()
        api.force_authenticate(resident)
        try:
            barrier.wait()
            codes.append(api.post("/api/v1/reservations/", body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(r,)) for r in residents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(codes)


@pytest.fixture
def residents(transactional_db, world):
    prop = world.a.property
    return [UserFactory(unit=UnitFactory(property=prop)) for _ in range(CLIENTS)]


def test_twenty_clients_race_for_an_exclusive_slot_one_wins(world, residents):
    room = amenity(world.a.property)
    day = days_ahead(3)
    codes = race(residents, room, local(day, 18), local(day, 20))
    assert codes == [201] + [409] * (CLIENTS - 1)
    assert Reservation.objects.filter(amenity=room).count() == 1


@pytest.mark.parametrize("capacity", [1, 5])
def test_twenty_clients_race_for_a_shared_slot_capacity_win(world, residents, capacity):
    gym = amenity(world.a.property, name="Gym", kind="gym", capacity=capacity + 1)
    day = days_ahead(2)
    # One place is already taken by an overlapping longer booking.
    first = race(residents[:1], gym, local(day, 9), local(day, 11))
    assert first == [201]
    codes = race(residents[1:], gym, local(day, 10), local(day, 11))
    assert codes == [201] * capacity + [409] * (CLIENTS - 1 - capacity)
    assert Reservation.objects.filter(amenity=gym).count() == capacity + 1
