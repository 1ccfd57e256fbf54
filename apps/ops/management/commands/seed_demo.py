import datetime
import zoneinfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.amenities.models import Amenity, AmenityClosure, Reservation
from apps.amenities.services import amenity_closure_announce, reservation_book
from apps.announcements.models import Announcement
from apps.announcements.services import announcement_create
from apps.assets.models import Asset
from apps.complaints.models import Complaint
from apps.core.roles import user_is_admin
from apps.front_desk.models import Parcel
from apps.front_desk.services import parcels_log
from apps.properties.models import Property, Residency, StaffAssignment, Unit
from apps.registration.models import Invitation
from apps.repairs.models import RepairRequest
from apps.reporting.demo import HISTORY_DAYS, demo_history_seed
from apps.reporting.models import AssetSnapshot, DailyPropertyStat, RepairPeriodStat
from apps.visitors.models import Visitor

DEMO_PASSWORD = "demo-pass-2026"

PROPERTIES = [
    ("oak", "Oak Court", "1 Oak Street", ["OAK-101", "OAK-102", "OAK-201", "OAK-202"]),
    ("elm", "Elm House", "7 Elm Road", ["ELM-1", "ELM-2"]),
]
STAFF = [
    ("admin", Role.ADMIN, None),
    ("manager", Role.MANAGER, "oak"),
    ("maintenance", Role.MAINTENANCE, "oak"),
    ("security", Role.SECURITY, "oak"),
    ("customer_service", Role.CUSTOMER_SERVICE, "oak"),
]
RESIDENTS = [("alice", "OAK-101"), ("bob", "OAK-102"), ("carol", "ELM-1")]


class Command(BaseCommand):
    help = (
        "Load demo data (properties, units, one user per role, residents); idempotent. "
        "Only while DEMO_DATA is on (development); --remove deletes it again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="skip the months of past repairs, complaints and visitors (for load tests)",
        )
        parser.add_argument(
            "--remove",
            action="store_true",
            help="delete the demo users and the demo properties with everything at them",
        )

    def handle(self, *args, **options):
        if options["remove"]:
            return self._remove()
        if not settings.DEMO_DATA:
            # Exit 0: `make run` with DEMO_DATA=false starts a production-shaped installation.
            self.stdout.write(
                "DEMO_DATA is off: no demo users or data loaded (create the real admin with "
                "`manage.py createsuperuser`; docs/OPERATIONS.md)."
            )
            return None
        with transaction.atomic():
            self._load(options)
        return None

    def _load(self, options):
        for code, name, address, units in PROPERTIES:
            prop, _ = Property.objects.get_or_create(
                code=code, defaults={"name": name, "address": address}
            )
            for unit in units:
                Unit.objects.get_or_create(code=unit, defaults={"property": prop})
        for username, role, property_code in STAFF:
            user = self._user(username, role)
            if user_is_admin(user):
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            else:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
                StaffAssignment.objects.get_or_create(
                    staff=user, property=Property.objects.get(code=property_code), role=role
                )
        for username, unit_code in RESIDENTS:
            user = self._user(username, Role.RESIDENT)
            Residency.objects.get_or_create(
                resident=user,
                unit=Unit.objects.get(code=unit_code),
                defaults={"start_date": datetime.date(2026, 1, 1)},
            )
        self._announcement_draft()
        self._amenities()
        self._parcels()
        if not options["no_history"] and demo_history_seed(
            Property.objects.filter(code__in=[p[0] for p in PROPERTIES])
        ):
            self.stdout.write(f"  {HISTORY_DAYS} days of repairs, complaints and visitors added")
        self.stdout.write(self.style.SUCCESS("demo data loaded"))
        self.stdout.write(f"  web and API docs: {settings.SITE_URL}/api/v1/docs/")
        self.stdout.write(f"  admin:            {settings.SITE_URL}/admin/")
        self.stdout.write(f"  reports:          {settings.SITE_URL}/admin/reports/dashboard/")
        self.stdout.write(f"  Flower:           {settings.FLOWER_URL}/")
        names = ", ".join(u for u, _, _ in STAFF) + ", " + ", ".join(u for u, _ in RESIDENTS)
        self.stdout.write(f"  logins ({names}) all use the password {DEMO_PASSWORD!r}")

    @transaction.atomic
    def _remove(self):
        """Delete the demo users (public password) and the demo properties with everything
        at them. A user or property an operator made under a demo name but with other
        details (email, property name) is left alone."""
        properties = Property.objects.filter(
            _any(Q(code=code, name=name) for code, name, _, _ in PROPERTIES)
        )
        ids = list(properties.values_list("pk", flat=True))
        others = Property.objects.exclude(pk__in=ids)
        at_demo = [
            RepairRequest.objects.filter(property__in=ids),
            Reservation.objects.filter(property__in=ids),
            AmenityClosure.objects.filter(amenity__property__in=ids),
            Amenity.objects.filter(property__in=ids),
            Complaint.objects.filter(property__in=ids),
            Visitor.objects.filter(property__in=ids),
            Parcel.objects.filter(property__in=ids),
            Asset.objects.filter(property__in=ids),
            Invitation.objects.filter(unit__property__in=ids),
            Residency.objects.filter(unit__property__in=ids),
            Announcement.objects.filter(properties__in=ids).exclude(properties__in=others),
            Unit.objects.filter(property__in=ids),
            DailyPropertyStat.objects.filter(property_id__in=ids),
            RepairPeriodStat.objects.filter(property_id__in=ids),
            AssetSnapshot.objects.filter(property_id__in=ids),
            properties,
        ]
        demo_users = [(name, name) for name, _, _ in STAFF] + [(n, n) for n, _ in RESIDENTS]
        users = User.objects.filter(
            _any(Q(username=name, email=f"{email}@example.com") for name, email in demo_users)
        )
        try:
            for queryset in at_demo:
                queryset.delete()
            removed = users.delete()[1].get(User._meta.label, 0)
        except ProtectedError as exc:
            raise CommandError(
                "A demo user has records outside the demo properties; nothing was removed: "
                + ", ".join(sorted({str(obj) for obj in exc.protected_objects})[:10])
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(f"demo data removed: {len(ids)} properties, {removed} users")
        )

    def _announcement_draft(self):
        """A draft for the manager to preview, schedule or send (once)."""
        if Announcement.objects.exists():
            return
        announcement_create(
            by=User.objects.get(username="manager"),
            properties=[Property.objects.get(code="oak")],
            category="maintenance",
            title="Fire-alarm test on Friday",
            body="The fire alarms of Oak Court will be tested on Friday between 10:00 and 10:30.",
            by_email=True,
        )

    def _amenities(self):
        """Oak Court: a gym (10 places), a party room needing approval, a service lift;
        Elm House: a gym. Bob has booked the gym, alice asked for the party room, carol
        booked Elm's gym; each property has a closure on a day nobody booked (once)."""
        oak, elm = Property.objects.get(code="oak"), Property.objects.get(code="elm")
        if Amenity.objects.filter(property__in=[oak, elm]).exists():
            return
        hours = {"opens_at": datetime.time(6), "closes_at": datetime.time(22)}
        gym = Amenity.objects.create(
            property=oak, name="Gym", kind="gym", capacity=10, weekly_limit=7, **hours
        )
        party = Amenity.objects.create(
            property=oak,
            name="Party room",
            kind="party_room",
            opens_at=datetime.time(10),
            closes_at=datetime.time(23),
            max_booking_minutes=240,
            needs_approval=True,
            cancellation_deadline_hours=48,
        )
        Amenity.objects.create(
            property=oak,
            name="Service lift",
            kind="service_lift",
            opens_at=datetime.time(8),
            closes_at=datetime.time(18),
            slot_minutes=30,
            max_booking_minutes=120,
        )
        elm_gym = Amenity.objects.create(property=elm, name="Gym", kind="gym", capacity=6, **hours)
        day = timezone.localdate() + datetime.timedelta(days=3)

        def at(amenity, hour, hours=1):
            zone = zoneinfo.ZoneInfo(amenity.property.time_zone)
            start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)
            return {"starts_at": start, "ends_at": start + datetime.timedelta(hours=hours)}

        users = {u.username: u for u in User.objects.filter(username__in=["alice", "bob", "carol"])}
        reservation_book(resident=users["bob"], amenity=gym, **at(gym, 7))
        reservation_book(resident=users["alice"], amenity=party, **at(party, 18, 3))
        reservation_book(resident=users["carol"], amenity=elm_gym, **at(elm_gym, 8))
        self._amenity_history(gym, users["bob"])
        closed = day + datetime.timedelta(days=20)
        for amenity in (gym, elm_gym):
            amenity_closure_announce(
                user=None,
                amenity=amenity,
                starts_on=closed,
                ends_on=closed,
                reason="Floor polishing",
            )

    def _amenity_history(self, gym, resident):
        """Two weeks of bob's past gym visits for the dashboard: kept, missed, cancelled."""
        zone = zoneinfo.ZoneInfo(gym.property.time_zone)
        unit = Unit.objects.get(code="OAK-102")
        statuses = ["completed", "completed", "no_show", "completed", "cancelled"]
        for n in range(1, 15):
            day = timezone.localdate() - datetime.timedelta(days=n)
            start = datetime.datetime.combine(day, datetime.time(7), tzinfo=zone)
            reservation = Reservation.objects.create(
                amenity=gym,
                property=gym.property,
                unit=unit,
                resident=resident,
                starts_at=start,
                ends_at=start + datetime.timedelta(hours=1),
                exclusive=False,
                status=statuses[n % len(statuses)],
            )
            reservation.record_status("", by=resident, at=start - datetime.timedelta(days=1))

    def _parcels(self):
        """Parcels waiting at each desk (once), logged as the desk logs them, so their
        residents are told with a pickup code."""
        if Parcel.objects.exists():
            return
        arrivals = [
            ("security", "OAK-101", "ups", ["1Z999AA10123456784", "1Z999AA10123456785"]),
            ("security", "OAK-102", "postal", ["LX123456789GB"]),
            ("admin", "ELM-1", "dhl", ["JD014600006281230001"]),
        ]
        for username, unit_code, carrier, numbers in arrivals:
            parcels_log(
                by=User.objects.get(username=username),
                unit=Unit.objects.get(code=unit_code),
                carrier=carrier,
                tracking_numbers=numbers,
                storage_location="shelf A1",
            )

    def _user(self, username, role):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.com",
                "role": role,
                "first_name": username.title(),
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if not user.phone:
            # A demo phone, so urgent-repair SMS reach the manager (console SMS backend).
            user.phone = f"+1555{user.pk:06d}"
            user.save(update_fields=["phone"])
        return user


def _any(conditions):
    """Q objects OR-ed together; matches nothing when there are none."""
    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= condition
    return combined
