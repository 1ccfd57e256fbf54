"""Amenity bookings under 50 concurrent clients, against plain indexed statements.

In a database of its own (`<database>_bench_amenities`), one property (Europe/Paris)
with BENCH_AMENITY_CLIENTS residents (default 50), a shared gym and an exclusive room.
Each client is a process with its own connection; all start together. Measured in the
same run, each as operations per second over every client:
- free slots: `amenity_free_slots` for a day with bookings, vs a plain indexed select of
  the same day's reservation rows;
- booking: `reservation_book` (row lock, rules, insert, history, outbox) on the shared
  gym (under the amenity's row lock) and on the exclusive room (no lock: the exclusion
  constraint), distinct slots so every booking succeeds, vs a plain indexed insert, one per
  transaction.
Prints each rate and the ratio plain / ours.
"""

import datetime
import multiprocessing
import os
import time
import zoneinfo

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propmgmt.settings")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/propmgmt")
SERVER, BASE_NAME = BASE_URL.rsplit("/", 1)
os.environ["DATABASE_URL"] = f"{SERVER}/{BASE_NAME}_bench_amenities"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.accounts.models import Role, User  # noqa: E402
from apps.amenities.models import Amenity, Reservation  # noqa: E402
from apps.amenities.selectors import amenity_free_slots  # noqa: E402
from apps.amenities.services import reservation_book  # noqa: E402
from apps.properties.models import Property, Residency, Unit  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_AMENITY_CLIENTS", "50"))
OPS = int(os.environ.get("BENCH_AMENITY_OPS", "20"))  # per client and measurement
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
HOURS = range(0, 23)  # open 00:00-23:00, one-hour slots


def seed():
    call_command("flush", interactive=False, verbosity=0)
    prop = Property.objects.create(name="Bench Court", code="bench", time_zone="Europe/Paris")
    residents = []
    for n in range(CLIENTS):
        unit = Unit.objects.create(property=prop, code=f"BENCH-{n}")
        user = User.objects.create(
            username=f"bench{n}", email=f"bench{n}@example.com", role=Role.RESIDENT
        )
        Residency.objects.create(resident=user, unit=unit, start_date=datetime.date(2026, 1, 1))
        residents.append(user)
    common = {
        "property": prop,
        "opens_at": datetime.time(0),
        "closes_at": datetime.time(23),
        "max_booking_minutes": 60,
        "booking_horizon_days": 365,
    }
    gym = Amenity.objects.create(name="Gym", kind="gym", capacity=CLIENTS * OPS, **common)
    room = Amenity.objects.create(name="Room", kind="party_room", capacity=1, **common)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_plain (id bigserial PRIMARY KEY, k int NOT NULL,"
            " t timestamptz NOT NULL); CREATE INDEX IF NOT EXISTS bench_plain_kt"
            " ON bench_plain (k, t); TRUNCATE bench_plain"
        )
    return residents, gym, room


def slot(index, first_day):
    """The index-th distinct one-hour slot from `first_day` on (00:00-23:00 local)."""
    day = first_day + datetime.timedelta(days=index // len(HOURS))
    start = datetime.datetime.combine(day, datetime.time(HOURS[index % len(HOURS)]), PARIS)
    return {"starts_at": start, "ends_at": start + datetime.timedelta(hours=1)}


def concurrently(work):
    """Run work(client) in CLIENTS processes (as gunicorn's workers are; threads would
    queue on the GIL inside the row lock) started together; operations per second."""
    connection.close()  # each process opens its own
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(CLIENTS + 1)

    def client(n):
        try:
            barrier.wait()
            work(n)
        finally:
            connection.close()

    processes = [context.Process(target=client, args=(n,)) for n in range(CLIENTS)]
    for p in processes:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    for p in processes:
        p.join()
        assert p.exitcode == 0, p.exitcode
    return CLIENTS * OPS / (time.perf_counter() - started)


def main():
    call_command("db_create")
    call_command("migrate", verbosity=0, interactive=False)
    residents, gym, room = seed()
    first_day = timezone.localdate() + datetime.timedelta(days=1)

    def book(amenity, offset):
        def work(n):
            for op in range(OPS):
                reservation_book(
                    resident=residents[n], amenity=amenity, **slot(offset + n * OPS + op, first_day)
                )

        return work

    def plain_insert(n):
        for op in range(OPS):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO bench_plain (k, t) VALUES (%s, %s)",
                    [n, slot(n * OPS + op, first_day)["starts_at"]],
                )

    rates = {}
    rates["plain insert"] = concurrently(plain_insert)
    rates["book shared gym"] = concurrently(book(gym, 0))
    rates["book exclusive room"] = concurrently(book(room, 0))
    assert Reservation.objects.count() == 2 * CLIENTS * OPS

    day = first_day  # the busiest day: every hour booked on both amenities
    start = datetime.datetime.combine(day, datetime.time(0), PARIS)

    def free_slots(n):
        for _ in range(OPS):
            amenity_free_slots(gym if n % 2 else room, day)

    def plain_select(n):
        for _ in range(OPS):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT starts_at, ends_at FROM amenities_reservation WHERE amenity_id = %s"
                    " AND starts_at < %s AND ends_at > %s",
                    [(gym if n % 2 else room).pk, start + datetime.timedelta(days=1), start],
                )
                cursor.fetchall()

    rates["plain select"] = concurrently(plain_select)
    rates["free slots"] = concurrently(free_slots)

    print(f"amenities bench: {CLIENTS} concurrent clients x {OPS} operations each")
    for name, rate in rates.items():
        print(f"  {name:20s} {rate:8,.0f} /s")
    pairs = [
        ("book shared gym", "plain insert"),
        ("book exclusive room", "plain insert"),
        ("free slots", "plain select"),
    ]
    for ours, plain in pairs:
        print(f"  {plain} / {ours}: {rates[plain] / rates[ours]:.1f}x")


if __name__ == "__main__":
    main()
