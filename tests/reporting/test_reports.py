"""The repairs, complaints, visitors and assets reports: kept from the events the real
services publish (duplicated and shuffled), equal to a recomputation from the source rows,
served as JSON and CSV to managers for their properties and to admins."""

import csv
import datetime
import io
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.assets.events import AssetCreated
from apps.assets.services import asset_create
from apps.complaints.events import ComplaintFiled
from apps.complaints.services import complaint_file, complaint_rate, complaint_transition
from apps.messaging.contracts import event_decode
from apps.messaging.models import OutboxMessage
from apps.repairs.events import RepairRequested
from apps.repairs.models import RepairRequest, RepairStatusChange
from apps.repairs.services import repair_request_submit, repair_transition
from apps.reporting.facts import duration_bucket
from apps.reporting.models import AssetSnapshot, DailyPropertyStat, RepairPeriodStat
from apps.reporting.selectors import histogram_p90, repairs_report
from apps.reporting.services import (
    asset_snapshot_record,
    report_event_record,
    report_period_reconcile,
)
from apps.visitors.events import VisitorArrived
from apps.visitors.services import visitor_walk_in
from tests.factories import DailyPropertyStatFactory

pytestmark = pytest.mark.django_db


def backdate_repair(repair, hours):
    """Move a repair's request back in time, as if it had been waiting `hours` (its row,
    its history and the event it published)."""
    earlier = timezone.now() - datetime.timedelta(hours=hours)
    RepairRequest.objects.filter(pk=repair.pk).update(created_at=earlier)
    RepairStatusChange.objects.filter(repair=repair, from_status="").update(changed_at=earlier)
    for row in OutboxMessage.objects.filter(event="repair.requested"):
        [envelope] = row.payload
        if envelope["data"]["repair_id"] == repair.pk:
            envelope["occurred_at"] = envelope["data"]["requested_at"] = earlier.isoformat()
            row.save(update_fields=["payload"])


def activity(world):
    """Real repairs, complaints, visitors and assets at property A, through the services."""
    site, staff = world.a, world.a.staff
    quick = repair_request_submit(
        resident=site.resident, category="plumbing", description="tap", urgency="urgent"
    )
    slow = repair_request_submit(
        resident=site.resident, category="plumbing", description="sink", urgency="urgent"
    )
    backdate_repair(quick, 2)
    backdate_repair(slow, 10)
    for repair in (quick, slow):
        for step in ("acknowledged", "scheduled", "in_progress", "resolved"):
            repair = repair_transition(repair=repair, to_status=step, user=staff["maintenance"])
    repair_request_submit(resident=site.resident, category="heating", description="cold")
    complaint = complaint_file(
        resident=site.resident, category="noise", subject="s", description="d"
    )
    for step in ("in_review", "resolved"):
        complaint = complaint_transition(
            complaint=complaint, to_status=step, user=staff["customer_service"]
        )
    complaint_rate(complaint=complaint, user=site.resident, rating=4)
    visitor_walk_in(by=staff["security"], unit=site.unit, name="Guest")
    asset_create(
        by=world.admin,
        property=site.property,
        name="Lift 1",
        category="lift",
        cost=Decimal("5000.00"),
        warranty_end=timezone.localdate() + datetime.timedelta(days=20),
    )


def envelopes(task_name):
    return [row.payload[0] for row in OutboxMessage.objects.filter(task_name=task_name)]


def replay_shuffled_twice(seed=7):
    events = envelopes("reporting.record_event") * 2
    random.Random(seed).shuffle(events)
    for envelope in events:
        report_event_record(event_decode(envelope))
    for envelope in envelopes("reporting.record_asset_event"):
        asset_snapshot_record(event_decode(envelope))


def test_events_twice_in_any_order_agree_with_a_recomputation_from_source_rows(world):
    activity(world)
    replay_shuffled_twice()
    today = timezone.localdate()
    assert report_period_reconcile(today - datetime.timedelta(days=1), today) == {
        "counters": 0,
        "repair_periods": 0,
        "assets": 0,
    }
    rows = {}  # summed over days (a backdated request may fall on yesterday)
    for r in DailyPropertyStat.objects.filter(property_id=world.a.property.id):
        count, total = rows.get((r.metric, r.category, r.urgency), (0, 0))
        rows[(r.metric, r.category, r.urgency)] = (count + r.count, total + r.total)
    hour = f"{timezone.localtime().hour:02d}"
    assert rows == {
        ("repairs_opened", "plumbing", "urgent"): (2, 0),
        ("repairs_opened", "heating", "normal"): (1, 0),
        ("repairs_resolved", "plumbing", "urgent"): (2, 0),
        ("complaints_filed", "noise", ""): (1, 0),
        ("complaints_resolved", "noise", ""): (1, 0),
        ("complaints_rated", "noise", ""): (1, 4),
        ("visitor_arrivals", hour, ""): (1, 0),
    }
    resolve = [
        (n, seconds)
        for row in RepairPeriodStat.objects.filter(span="day")
        for n, seconds in zip(row.resolve_counts, row.resolve_seconds, strict=True)
        if n
    ]
    assert sum(n for n, _ in resolve) == 2
    assert {round(seconds / 3600) for _, seconds in resolve} == {2, 10}


def test_the_repairs_report_gives_averages_p90_and_the_backlog(api, world):
    activity(world)
    replay_shuffled_twice()
    manager = api(world.user("manager"))
    [heating, plumbing] = manager.get(
        "/api/v1/reports/repairs/", {"group_by": "month", "property": world.a.property.id}
    ).json()[-2:]
    assert (heating["category"], heating["opened"], heating["backlog"]) == ("heating", 1, 1)
    assert (plumbing["opened"], plumbing["resolved"], plumbing["backlog"]) == (2, 2, 0)
    assert plumbing["resolutions"] == 2
    assert round(plumbing["resolve_avg_seconds"] / 3600) == 6  # (2 h + 10 h) / 2
    assert round(plumbing["resolve_p90_seconds"] / 3600) == 10
    assert plumbing["acknowledged"] == 2 and plumbing["acknowledge_p90_seconds"] > 9 * 3600


def test_periods_the_range_covers_in_part_count_only_its_days_and_carry_the_backlog(world):
    """Whole periods are read from their own rows, the rest from their days' rows: every
    grouping of the same days gives the same totals, and the backlog carries over."""
    activity(world)
    replay_shuffled_twice()
    today = timezone.localdate()
    since, tomorrow = today - datetime.timedelta(days=1), today + datetime.timedelta(days=1)

    def totals(date_from, date_to, group_by):
        rows = repairs_report(
            property_ids=[world.a.property.id],
            date_from=date_from,
            date_to=date_to,
            group_by=group_by,
        )
        last = max(row["period"] for row in rows)
        summed = ("opened", "resolved", "cancelled", "acknowledged", "resolutions")
        return {
            **{name: sum(row[name] for row in rows) for name in summed},
            "backlog": sum(row["backlog"] for row in rows if row["period"] == last),
        }

    expected = {
        "opened": 3,
        "resolved": 2,
        "cancelled": 0,
        "acknowledged": 2,
        "resolutions": 2,
        "backlog": 1,
    }
    for group_by in ("day", "week", "month"):
        assert totals(since, today, group_by) == expected, group_by
        assert totals(tomorrow, tomorrow, group_by) == {
            **dict.fromkeys(expected, 0),
            "backlog": 1,
        }, group_by


def test_p90_is_the_mean_of_the_bucket_it_falls_in():
    samples = list(range(1, 101))  # 90th percentile: 90
    buckets = {}
    for s in samples:
        n, total = buckets.get(duration_bucket(s), (0, 0))
        buckets[duration_bucket(s)] = (n + 1, total + s)
    p90 = histogram_p90([(b, n, t) for b, n, t in ((b, *v) for b, v in buckets.items())])
    assert abs(p90 - 90) <= 90 * 0.1


def test_complaints_visitors_and_assets_reports_and_csv(api, world):
    activity(world)
    replay_shuffled_twice()
    manager = api(world.user("manager"))
    [complaints] = manager.get("/api/v1/reports/complaints/").json()
    assert (complaints["filed"], complaints["resolved"], complaints["rating_avg"]) == (1, 1, 4.0)
    [visitors] = manager.get("/api/v1/reports/visitors/", {"group_by": "week"}).json()
    assert visitors["arrivals"] == 1 and visitors["hour"] == timezone.localtime().hour
    [assets] = manager.get("/api/v1/reports/assets/").json()
    assert (assets["total_cost"], assets["warranty_ending_30"], assets["warranty_ending_90"]) == (
        "5000.00",
        1,
        1,
    )
    answer = manager.get("/api/v1/reports/complaints/", {"format": "csv"})
    assert answer["Content-Type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert (row["category"], row["filed"], row["rating_avg"]) == ("noise", "1", "4.0")
    empty = manager.get(
        "/api/v1/reports/visitors/", {"format": "csv", "from": "2020-01-01", "to": "2020-01-31"}
    )
    assert empty.content.decode().strip() == "period,property_id,hour,arrivals"


@pytest.mark.parametrize("path", ["repairs", "complaints", "visitors", "assets"])
def test_reports_are_for_managers_of_the_property_and_admins(api, world, path):
    for site in (world.a, world.b):
        now, pk = timezone.now(), site.property.id
        report_event_record(
            VisitorArrived(
                visitor_id=pk,
                property_id=pk,
                unit_id=1,
                host_id=None,
                name="V",
                status="arrived",
                version=2,
                arrived_at=None,
                occurred_at=now,
            )
        )
        report_event_record(
            ComplaintFiled(
                complaint_id=pk,
                property_id=pk,
                unit_id=1,
                resident_id=1,
                category="noise",
                version=1,
                status="open",
                occurred_at=now,
            )
        )
        report_event_record(
            RepairRequested(
                repair_id=pk,
                property_id=pk,
                unit_id=1,
                resident_id=1,
                category="pest",
                urgency="low",
                requested_at=now,
                status="submitted",
                version=1,
                occurred_at=now,
            )
        )
        asset_snapshot_record(
            AssetCreated(
                asset_id=pk,
                property_id=pk,
                category="lift",
                condition="good",
                cost=Decimal("1.00"),
                status="active",
                warranty_end=None,
                version=1,
                occurred_at=now,
            )
        )
    url = f"/api/v1/reports/{path}/"
    a, b = world.a.property.id, world.b.property.id
    mine = api(world.user("manager")).get(url).json()
    assert {row["property_id"] for row in mine} == {a}
    assert api(world.user("manager")).get(url, {"property": b}).json() == []
    assert {row["property_id"] for row in api(world.admin).get(url).json()} == {a, b}
    for role in ("resident", "maintenance", "security", "customer_service"):
        assert api(world.user(role)).get(url).status_code == 403
    assert api().get(url).status_code in (401, 403)


def test_bad_report_queries_are_400_with_field_messages(api, world):
    manager = api(world.user("manager"))
    url = "/api/v1/reports/repairs/"
    assert "group_by" in manager.get(url, {"group_by": "year"}).json()
    assert "from" in manager.get(url, {"from": "2026-02-01", "to": "2026-01-01"}).json()
    assert "from" in manager.get(url, {"from": "yesterday"}).json()
    assert "group_by" in manager.get(url, {"from": "2000-01-01", "to": "2026-01-01"}).json()


def test_reconciliation_mends_a_corrupted_report_and_logs_it(world, caplog):
    activity(world)
    replay_shuffled_twice()
    today = timezone.localdate()
    DailyPropertyStat.objects.filter(metric="complaints_rated").update(count=9, total=1)
    DailyPropertyStatFactory(property_id=world.a.property.id, metric="repairs_cancelled", count=3)
    RepairPeriodStat.objects.update(acknowledge_counts=[], acknowledge_seconds=[])
    AssetSnapshot.objects.update(condition="broken")
    changed = report_period_reconcile(today - datetime.timedelta(days=1), today)
    assert changed["counters"] == 2 and changed["repair_periods"] >= 1 and changed["assets"] == 1
    assert "complaints_rated" in caplog.text and "[9, 1] -> [1, 4]" in caplog.text
    rated = DailyPropertyStat.objects.get(metric="complaints_rated")
    assert (rated.count, rated.total) == (1, 4)
    assert not DailyPropertyStat.objects.filter(metric="repairs_cancelled").exists()
    months = RepairPeriodStat.objects.filter(span="month")
    assert sum(sum(row.acknowledge_counts) for row in months) == 2
    assert AssetSnapshot.objects.get().condition == "good"
    # Mended and marked applied: the same events again change nothing.
    replay_shuffled_twice()
    assert report_period_reconcile(today - datetime.timedelta(days=1), today) == {
        "counters": 0,
        "repair_periods": 0,
        "assets": 0,
    }
