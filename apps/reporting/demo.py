"""A few months of demo history (repairs, complaints, visitors, parcels, assets) for seed_demo, so
the reports and the dashboard show something real. Written in bulk with their past
timestamps (no events: nothing of this happens now), then the report tables are filled
by the reconciliation job from these rows. Idempotent: skipped once the history exists."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.assets.models import Asset
from apps.complaints.models import Complaint, ComplaintCategory, ComplaintStatusChange
from apps.core.sql import values_execute
from apps.front_desk.models import Parcel, ParcelStatus, ParcelStatusChange
from apps.properties.models import StaffAssignment
from apps.properties.selectors import residencies_in_force
from apps.repairs.models import RepairCategory, RepairRequest, RepairStatusChange
from apps.reporting.services import report_period_reconcile
from apps.visitors.models import Visitor, VisitorStatusChange

HISTORY_DAYS = 120
MARKER = "[demo history]"
URGENCY_WEIGHTS = {"low": 2, "normal": 6, "urgent": 1}
# Hours until each next step, by urgency: (acknowledge, schedule, start, resolve).
STEP_HOURS = {"urgent": (0.2, 3, 1, 2), "normal": (10, 24, 36, 8), "low": (30, 72, 72, 8)}
VISITOR_HOURS = [8, 9, 10, 10, 11, 11, 12, 13, 14, 15, 16, 17, 17, 18, 18, 19, 19, 20]
ASSETS = [
    ("Lift A", "lift", "48000.00", "good", 400),
    ("Lift B", "lift", "52000.00", "fair", 25),
    ("Boiler", "boiler", "12500.00", "fair", 80),
    ("Main door", "door", "3200.00", "good", 700),
    ("Rooftop HVAC", "hvac", "27000.00", "poor", 15),
    ("Switchboard", "electrical", "8800.00", "good", 200),
    ("Water pumps", "plumbing", "6400.00", "broken", -30),
]


def demo_history_seed(properties, seed=2026):
    """Create the history for `properties` (those with residents) unless it exists."""
    if RepairRequest.objects.filter(description__startswith=MARKER).exists():
        return False
    rng = random.Random(seed)
    now = timezone.now()
    first_day = timezone.localdate() - timedelta(days=HISTORY_DAYS)
    with transaction.atomic():
        for prop in properties:
            residencies = list(
                residencies_in_force().filter(unit__property=prop).select_related("unit")
            )
            staff = StaffAssignment.objects.filter(property=prop, role=Role.MAINTENANCE).first()
            if not residencies:
                continue
            days = [
                timezone.make_aware(datetime.combine(first_day + timedelta(days=n), time(0)))
                for n in range(HISTORY_DAYS)
            ]
            _repairs(rng, residencies, staff and staff.staff, days, now)
            _complaints(rng, residencies, days, now)
            _visitors(rng, prop, residencies, days, now)
            _parcels(rng, prop, residencies, days, now)
            _assets(prop)
    report_period_reconcile(first_day, timezone.localdate())
    return True


def _at(rng, start, hours_from, hours_to):
    return start + timedelta(hours=rng.uniform(hours_from, hours_to))


def _created_at_set(model, times):
    """Give bulk-created rows their past created_at/updated_at: [(id, created, updated)]."""
    table = model._meta.db_table
    values_execute(
        f"UPDATE {table} AS t SET created_at = v.created, updated_at = v.updated "
        "FROM (VALUES %s) AS v(id, created, updated) WHERE t.id = v.id",
        times,
        template="(%s, %s::timestamptz, %s::timestamptz)",
    )


def _repairs(rng, residencies, worker, days, now):
    planned = []
    for start in days:
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            residency = rng.choice(residencies)
            urgency = rng.choices(list(URGENCY_WEIGHTS), weights=URGENCY_WEIGHTS.values())[0]
            at = created = _at(rng, start, 7, 22)
            steps = [("", "submitted", created)]
            targets = (
                ["cancelled"]
                if rng.random() < 0.05
                else [
                    "acknowledged",
                    "scheduled",
                    "in_progress",
                    "resolved",
                    "closed",
                ]
            )
            for target, mean in zip(targets, [*STEP_HOURS[urgency], 72], strict=False):
                at += timedelta(hours=rng.expovariate(1 / mean))
                steps.append((steps[-1][1], target, at))
            if at > now:
                continue  # history is finished work: today's open work is the live demo's
            repair = RepairRequest(
                property_id=residency.unit.property_id,
                unit=residency.unit,
                resident=residency.resident,
                category=rng.choice(RepairCategory.values),
                urgency=urgency,
                description=f"{MARKER} {urgency} repair",
                status=steps[-1][1],
                version=len(steps),
                resolved_at=next((when for _, to, when in steps if to == "resolved"), None),
            )
            planned.append((repair, steps))
    RepairRequest.objects.bulk_create([repair for repair, _ in planned])
    RepairStatusChange.objects.bulk_create(
        RepairStatusChange(
            repair=repair,
            from_status=frm,
            to_status=to,
            changed_at=when,
            changed_by=worker if frm else repair.resident,
        )
        for repair, steps in planned
        for frm, to, when in steps
    )
    _created_at_set(RepairRequest, [(r.id, steps[0][2], steps[-1][2]) for r, steps in planned])


def _complaints(rng, residencies, days, now):
    planned = []
    for start in days:
        if rng.random() > 0.35:
            continue
        residency = rng.choice(residencies)
        at = created = _at(rng, start, 8, 21)
        steps = [("", "open", created)]
        for target in ("in_review", "resolved"):
            at += timedelta(hours=rng.uniform(4, 72))
            steps.append((steps[-1][1], target, at))
        if at > now:
            continue
        complaint = Complaint(
            property_id=residency.unit.property_id,
            unit=residency.unit,
            resident=residency.resident,
            category=rng.choice(ComplaintCategory.values),
            subject="Demo complaint",
            description=MARKER,
            status=steps[-1][1],
            version=len(steps),
        )
        if complaint.status == "resolved":
            complaint.resolved_at = steps[-1][2]
            rated_at = steps[-1][2] + timedelta(hours=rng.uniform(1, 48))
            if rated_at < now and rng.random() < 0.7:
                complaint.rating = rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 4])[0]
                complaint.rated_at, complaint.version = rated_at, len(steps) + 1
        planned.append((complaint, steps))
    Complaint.objects.bulk_create([complaint for complaint, _ in planned])
    ComplaintStatusChange.objects.bulk_create(
        ComplaintStatusChange(complaint=complaint, from_status=frm, to_status=to, changed_at=when)
        for complaint, steps in planned
        for frm, to, when in steps
    )
    _created_at_set(Complaint, [(c.id, steps[0][2], steps[-1][2]) for c, steps in planned])


def _visitors(rng, prop, residencies, days, now):
    planned = []
    for start in days:
        for _ in range(rng.choice([0, 1, 2, 3, 4, 5])):
            residency = rng.choice(residencies)
            arrived = start + timedelta(hours=rng.choice(VISITOR_HOURS), minutes=rng.randrange(60))
            if arrived > now:
                continue
            departed = arrived + timedelta(hours=rng.uniform(0.3, 4))
            if departed > now:
                continue
            planned.append(
                Visitor(
                    unit=residency.unit,
                    property=prop,
                    host=residency.resident,
                    name="Demo visitor",
                    expected_arrival=arrived,
                    status="departed",
                    arrived_at=arrived,
                    departed_at=departed,
                    version=3,
                )
            )
    Visitor.objects.bulk_create(planned)
    VisitorStatusChange.objects.bulk_create(
        VisitorStatusChange(visitor=visitor, from_status=frm, to_status=to, changed_at=when)
        for visitor in planned
        for frm, to, when in (
            ("", "arrived", visitor.arrived_at),
            ("arrived", "departed", visitor.departed_at),
        )
    )


def _parcels(rng, prop, residencies, days, now):
    """Parcels delivered in the day, most picked up within three days, a few returned to
    sender after two weeks."""
    planned = []
    for start in days:
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            residency = rng.choice(residencies)
            arrived = start + timedelta(hours=rng.uniform(9, 17))
            returned = rng.random() < 0.05
            done = arrived + (
                timedelta(days=14)
                if returned
                else timedelta(hours=rng.choice([1, 3, 6, 20, 26, 48, 70]))
            )
            if done > now:
                continue
            status = ParcelStatus.RETURNED if returned else ParcelStatus.PICKED_UP
            planned.append(
                Parcel(
                    property=prop,
                    unit=residency.unit,
                    resident=residency.resident,
                    carrier=rng.choice(["postal", "ups", "dhl", "amazon"]),
                    tracking_number=f"DEMO{len(planned):06d}",
                    note=MARKER,
                    pickup_code="000000",
                    status=status,
                    version=2,
                    picked_up_at=None if returned else done,
                    returned_at=done if returned else None,
                    collected_by="" if returned else str(residency.resident),
                )
            )
            planned[-1].demo_times = (arrived, done)
    Parcel.objects.bulk_create(planned)
    _created_at_set(Parcel, [(p.id, *p.demo_times) for p in planned])
    ParcelStatusChange.objects.bulk_create(
        ParcelStatusChange(parcel=parcel, from_status=frm, to_status=to, changed_at=at)
        for parcel in planned
        for frm, to, at in (
            ("", ParcelStatus.WAITING, parcel.demo_times[0]),
            (ParcelStatus.WAITING, parcel.status, parcel.demo_times[1]),
        )
    )


def _assets(prop):
    today = timezone.localdate()
    for name, category, cost, condition, warranty_days in ASSETS:
        Asset.objects.get_or_create(
            property=prop,
            name=name,
            defaults={
                "category": category,
                "cost": Decimal(cost),
                "condition": condition,
                "warranty_end": today + timedelta(days=warranty_days),
            },
        )
