"""A few months of demo history (repairs, complaints, visitors, assets) for seed_demo, so
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
from apps.properties.models import Residency, StaffAssignment
from apps.repairs.models import RepairCategory, RepairRequest, RepairStatusChange
from apps.reporting.services import report_period_reconcile
from apps.visitors.models import Visitor, VisitorEvent

HISTORY_DAYS = 120
MARKER = "[demo history]"
URGENCY_WEIGHTS = {"low": 2, "normal": 6, "urgent": 1}
# Hours until each next step, by urgency: (acknowledge, schedule, start, resolve).
STEP_HOURS = {"urgent": (0.2, 3, 1, 2), "normal": (10, 24, 36, 8), "low": (30, 72, 72, 8)}
VISITOR_HOURS = [8, 9, 10, 10, 11, 11, 12, 13, 14, 15, 16, 17, 17, 18, 18, 19, 19, 20]
ASSETS = [
    ("Lift A", "lift", "48000.00", "good", 400), ("Lift B", "lift", "52000.00", "fair", 25),
    ("Boiler", "boiler", "12500.00", "fair", 80), ("Main door", "door", "3200.00", "good", 700),
    ("Rooftop HVAC", "hvac", "27000.00", "poor", 15), ("Switchboard", "electrical",
    "8800.00", "good", 200), ("Water pumps", "plumbing", "6400.00", "broken", -30),
]  # fmt: skip


def demo_history_seed(properties, seed=2026):
    """Create the history for `properties` (those with residents) unless it exists."""
    if RepairRequest.objects.filter(description__startswith=MARKER).exists():
        return False
    rng = random.Random(seed)
    now = timezone.now()
    first_day = timezone.localdate() - timedelta(days=HISTORY_DAYS)
    with transaction.atomic():
        for prop in properties:
            residencies = list(Residency.objects.filter(unit__property=prop).select_related("unit"))
            staff = StaffAssignment.objects.filter(property=prop, role=Role.MAINTENANCE).first()
            if not residencies:
                continue
            for offset in range(HISTORY_DAYS):
                day = first_day + timedelta(days=offset)
                start = timezone.make_aware(datetime.combine(day, time(0)))
                _repairs(rng, residencies, staff and staff.staff, start, now)
                _complaints(rng, residencies, start, now)
                _visitors(rng, prop, residencies, start, now)
            _assets(prop)
    report_period_reconcile(first_day, timezone.localdate())
    return True


def _at(rng, start, hours_from, hours_to):
    return start + timedelta(hours=rng.uniform(hours_from, hours_to))


def _repairs(rng, residencies, worker, start, now):
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
        residency = rng.choice(residencies)
        urgency = rng.choices(list(URGENCY_WEIGHTS), weights=URGENCY_WEIGHTS.values())[0]
        created = _at(rng, start, 7, 22)
        repair = RepairRequest.objects.create(
            property_id=residency.unit.property_id, unit=residency.unit,
            resident=residency.resident, category=rng.choice(RepairCategory.values),
            urgency=urgency, description=f"{MARKER} {urgency} repair", status="submitted",
        )  # fmt: skip
        steps = [("", "submitted", created)]
        at = created
        cancelled = rng.random() < 0.05
        targets = ["cancelled"] if cancelled else ["acknowledged", "scheduled", "in_progress",
                                                   "resolved", "closed"]  # fmt: skip
        for target, mean in zip(targets, [*STEP_HOURS[urgency], 72], strict=False):
            at += timedelta(hours=rng.expovariate(1 / mean))
            if at > now:
                break
            steps.append((steps[-1][1], target, at))
        RepairStatusChange.objects.bulk_create(
            RepairStatusChange(repair=repair, from_status=frm, to_status=to, changed_at=when,
                               changed_by=worker if frm else residency.resident)
            for frm, to, when in steps
        )  # fmt: skip
        resolved = next((when for _, to, when in steps if to == "resolved"), None)
        RepairRequest.objects.filter(pk=repair.pk).update(
            created_at=created, status=steps[-1][1], version=len(steps), resolved_at=resolved,
            updated_at=steps[-1][2],
        )  # fmt: skip


def _complaints(rng, residencies, start, now):
    if rng.random() > 0.35:
        return
    residency = rng.choice(residencies)
    created = _at(rng, start, 8, 21)
    complaint = Complaint.objects.create(
        property_id=residency.unit.property_id, unit=residency.unit, resident=residency.resident,
        category=rng.choice(ComplaintCategory.values), subject="Demo complaint",
        description=MARKER,
    )  # fmt: skip
    steps, at = [("", "open", created)], created
    for target in ("in_review", "resolved"):
        at += timedelta(hours=rng.uniform(4, 72))
        if at > now:
            break
        steps.append((steps[-1][1], target, at))
    ComplaintStatusChange.objects.bulk_create(
        ComplaintStatusChange(complaint=complaint, from_status=frm, to_status=to, changed_at=when)
        for frm, to, when in steps
    )
    fields = {"created_at": created, "status": steps[-1][1], "version": len(steps)}
    if steps[-1][1] == "resolved":
        fields["resolved_at"] = steps[-1][2]
        rated_at = steps[-1][2] + timedelta(hours=rng.uniform(1, 48))
        if rated_at < now and rng.random() < 0.7:
            fields.update(rating=rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 4])[0],
                          rated_at=rated_at, version=len(steps) + 1)  # fmt: skip
    Complaint.objects.filter(pk=complaint.pk).update(**fields)


def _visitors(rng, prop, residencies, start, now):
    for _ in range(rng.choice([0, 1, 2, 3, 4, 5])):
        residency = rng.choice(residencies)
        arrived = start + timedelta(hours=rng.choice(VISITOR_HOURS), minutes=rng.randrange(60))
        if arrived > now:
            continue
        departed = arrived + timedelta(hours=rng.uniform(0.3, 4))
        done = departed < now
        visitor = Visitor.objects.create(
            unit=residency.unit, property=prop, host=residency.resident, name="Demo visitor",
            expected_arrival=arrived, status="departed" if done else "arrived",
            arrived_at=arrived, departed_at=departed if done else None,
            version=3 if done else 2,
        )  # fmt: skip
        VisitorEvent.objects.bulk_create(
            [VisitorEvent(visitor=visitor, status="arrived", at=arrived)]
            + ([VisitorEvent(visitor=visitor, status="departed", at=departed)] if done else [])
        )


def _assets(prop):
    today = timezone.localdate()
    for name, category, cost, condition, warranty_days in ASSETS:
        Asset.objects.get_or_create(
            property=prop, name=name,
            defaults={"category": category, "cost": Decimal(cost), "condition": condition,
                      "warranty_end": today + timedelta(days=warranty_days)},
        )  # fmt: skip
