import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import Role, User
from apps.announcements.models import Announcement
from apps.announcements.services import announcement_create
from apps.properties.models import Property, Residency, StaffAssignment, Unit
from apps.reporting.demo import HISTORY_DAYS, demo_history_seed

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
    help = "Load demo data (properties, units, one user per role, residents); idempotent."

    @transaction.atomic
    def add_arguments(self, parser):
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="skip the months of past repairs, complaints and visitors (for load tests)",
        )

    def handle(self, *args, **options):
        for code, name, address, units in PROPERTIES:
            prop, _ = Property.objects.get_or_create(
                code=code, defaults={"name": name, "address": address}
            )
            for unit in units:
                Unit.objects.get_or_create(code=unit, defaults={"property": prop})
        for username, role, property_code in STAFF:
            user = self._user(username, role)
            if role == Role.ADMIN:
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
