"""The people and buildings the load runs against: the demo data (`seed_demo`) plus a few
more properties with a full staff (two maintenance people at one, an off-duty guard at
each), created through the services where there is one, and a studio at every property
that residents book by the five minutes. Needs Django set up."""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import transaction

from apps.accounts.models import Role, User
from apps.amenities.models import Amenity
from apps.ops.management.commands.seed_demo import DEMO_PASSWORD
from apps.properties.models import Property, Residency, StaffAssignment
from apps.properties.services import property_create, unit_create

EXTRA_PROPERTIES = ("birch", "cedar", "maple")
RESIDENTS_PER_PROPERTY = 3
# The studio's slots: short, so a booking's reminder (an hour before) comes due while the
# suite runs; open all day, room for every booking, cancellable until the start.
STUDIO_SLOT_MINUTES = 5
STUDIO_NAME = "Fault suite studio"


@dataclass
class World:
    # username -> property code, for the residents who post repairs, complaints, visitors
    residents: dict = field(default_factory=dict)
    # property code -> username of the on-duty guard who checks visitors in
    guards: dict = field(default_factory=dict)
    # property code -> unit ids (for walk-ins)
    units: dict = field(default_factory=dict)
    # resident username -> their unit id (where the desk logs their parcels)
    unit_of: dict = field(default_factory=dict)
    # property code -> id of the studio its residents book
    amenities: dict = field(default_factory=dict)
    slot_minutes: int = STUDIO_SLOT_MINUTES
    password: str = DEMO_PASSWORD


def _user(username, role, *, password, phone=""):
    return User.objects.create(
        username=username,
        password=password,
        email=f"{username}@faults.example.com",
        role=role,
        first_name=username.replace("_", " ").title(),
        phone=phone,
        is_staff=role != Role.RESIDENT,
    )


def world_create():
    call_command("seed_demo", "--no-history", stdout=open("/dev/null", "w"))  # noqa: SIM115
    admin = User.objects.get(username="admin")
    world = World()
    # One hash for every user: hashing is slow on purpose, and the load logs each one in.
    password = make_password(DEMO_PASSWORD)
    start = datetime.date(2026, 1, 1)
    with transaction.atomic():
        for index, code in enumerate(EXTRA_PROPERTIES):
            prop = property_create(by=admin, name=f"{code.title()} Place", code=code)
            staff = [
                ("manager", Role.MANAGER, True),
                ("maint", Role.MAINTENANCE, True),
                ("guard", Role.SECURITY, True),
                ("guard_off", Role.SECURITY, False),
                ("care", Role.CUSTOMER_SERVICE, True),
            ]
            if index == 0:
                staff.append(("maint2", Role.MAINTENANCE, True))
            for suffix, role, on_duty in staff:
                phone = f"+1555{index:02d}{len(suffix):04d}"
                user = _user(f"{code}_{suffix}", role, password=password, phone=phone)
                StaffAssignment.objects.create(
                    staff=user, property=prop, role=role, on_duty=on_duty
                )
            world.guards[code] = f"{code}_guard"
            for number in range(RESIDENTS_PER_PROPERTY):
                unit = unit_create(by=admin, property=prop, code=f"{code.upper()}-{number + 1}")
                world.units.setdefault(code, []).append(unit.id)
                resident = _user(f"{code}_resident{number + 1}", Role.RESIDENT, password=password)
                Residency.objects.create(resident=resident, unit=unit, start_date=start)
                world.residents[resident.username] = code
                world.unit_of[resident.username] = unit.id
    # The demo's residents too: alice and bob live at Oak Court (demo staff), carol at Elm
    # House, which has no staff at all (her events report, nobody is told).
    world.guards["oak"] = "security"
    world.guards["elm"] = "admin"  # no guard at Elm House: the admin checks visitors in
    for residency in Residency.objects.filter(resident__username__in=["alice", "bob", "carol"]):
        code = residency.unit.property.code
        world.residents[residency.resident.username] = code
        world.units.setdefault(code, []).append(residency.unit_id)
        world.unit_of[residency.resident.username] = residency.unit_id
    for code in set(world.residents.values()):
        world.amenities[code] = Amenity.objects.create(
            property=Property.objects.get(code=code),
            name=STUDIO_NAME,
            kind="other",
            opens_at=datetime.time(0),
            closes_at=datetime.time(23, 55),
            slot_minutes=STUDIO_SLOT_MINUTES,
            max_booking_minutes=STUDIO_SLOT_MINUTES,
            capacity=1000,
        ).id
    return world
