"""The reporting consumers on real workers: re-published events count once, asset
events out of order keep the newest state, unknown events dead-letter."""

import datetime
from decimal import Decimal

import psycopg2
import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.assets.events import AssetUpdated
from apps.complaints.services import complaint_file, complaint_rate, complaint_transition
from apps.messaging.models import MessageFailure, ProcessedMessage
from apps.messaging.publisher import publish
from apps.notifications.models import Notification
from apps.repairs.events import RepairRequested
from apps.repairs.models import RepairRequest
from apps.repairs.services import repair_request_submit, repair_transition
from apps.reporting.models import AssetSnapshot, DailyPropertyStat
from apps.reporting.services import report_period_reconcile
from apps.visitors.events import VisitorExpected
from propmgmt.celery import app
from tests.conftest import make_site, queue_depth, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

REPAIR = {
    "repair_id": 11,
    "property_id": 5,
    "unit_id": 1,
    "resident_id": 1,
    "category": "electrical",
    "urgency": "normal",
    "status": "submitted",
    "version": 1,
    "requested_at": timezone.now(),
}


def processed(consumer):
    return ProcessedMessage.objects.filter(consumer=consumer).count()


def asset(version, condition):
    return AssetUpdated(
        asset_id=21,
        property_id=5,
        category="boiler",
        condition=condition,
        cost=Decimal("1500.50"),
        status="active",
        warranty_end=None,
        version=version,
    )


def test_reporting_worker_counts_once_and_keeps_newest_asset(clean_queues, start_worker):
    start_worker("reporting", "asset_management")
    with transaction.atomic():
        publish(RepairRequested(**REPAIR))
        publish(asset(3, "poor"))
    with transaction.atomic():
        publish(RepairRequested(**REPAIR))  # re-published: a new message id
        publish(asset(2, "good"))  # late and older
        publish(
            VisitorExpected(
                visitor_id=1,
                property_id=5,
                unit_id=1,
                host_id=None,
                name="V",
                status="expected",
                version=1,
                arrived_at=None,
            )
        )
    wait_until(
        lambda: (
            processed("reporting.record_event") == 2
            and processed("reporting.record_asset_event") == 2
        ),
        message="every message processed",
    )
    [row] = DailyPropertyStat.objects.filter(property_id=5)
    assert (row.metric, row.category, row.urgency, row.count) == (
        "repairs_opened",
        "electrical",
        "normal",
        1,
    )
    assert row.day == timezone.localdate()  # the occurred_at date
    snapshot = AssetSnapshot.objects.get(asset_id=21)
    assert (snapshot.version, snapshot.condition, snapshot.cost) == (3, "poor", Decimal("1500.50"))
    assert queue_depth("reporting.dlq") == 0 and queue_depth("asset_management.dlq") == 0


def test_unknown_event_is_dead_lettered(clean_queues, start_worker):
    start_worker("reporting")
    envelope = {
        "event": "repair.exploded",
        "occurred_at": "2026-11-20T10:00:00+00:00",
        "data": {"repair_id": 1},
    }
    app.send_task("reporting.record_event", args=[envelope])
    wait_until(lambda: queue_depth("reporting.dlq") == 1, message="dead letter")


def test_a_connection_lost_while_adding_to_a_counter_is_retried(clean_queues, start_worker):
    """The counters are added in bulk through psycopg2's own cursor. PostgreSQL ending
    the worker's connection in that statement is a database outage like any other:
    retried, counted once, nothing dead-lettered (it was once taken for a bug in the
    message and dead-lettered, losing the count)."""
    worker = start_worker("reporting")
    with transaction.atomic():
        publish(RepairRequested(**REPAIR))
    wait_until(lambda: DailyPropertyStat.objects.exists(), message="the counter row exists")
    table = DailyPropertyStat._meta.db_table
    locker = psycopg2.connect(**connection.get_connection_params())
    watcher = psycopg2.connect(**connection.get_connection_params())
    # pg_stat_activity is read once per transaction: each look must be a transaction of its own.
    watcher.autocommit = True
    try:
        with locker.cursor() as lock, watcher.cursor() as watch:
            # The next increment waits on this lock, inside the bulk upsert.
            lock.execute(f"SELECT 1 FROM {table} FOR UPDATE")
            with transaction.atomic():
                publish(RepairRequested(**{**REPAIR, "repair_id": 12}))
            waiting = wait_until(
                lambda: _backends_waiting(watch, f"INSERT INTO {table}"),
                message="the worker waits inside the counter upsert",
            )
            watch.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s) AS pid", [waiting])
        locker.rollback()
    finally:
        locker.close()
        watcher.close()
    wait_until(
        lambda: DailyPropertyStat.objects.get(metric="repairs_opened").count == 2,
        timeout=60,
        message="the second repair counted after its retry",
    )
    assert "transient error in reporting.record_event" in worker.logs()
    assert not MessageFailure.objects.exists() and queue_depth("reporting.dlq") == 0


def _backends_waiting(cursor, statement):
    cursor.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE %s",
        [statement + "%"],
    )
    return [pid for (pid,) in cursor.fetchall()]


def test_reports_kept_by_the_worker_agree_with_a_recomputation(clean_queues, start_worker):

    start_worker("reporting", "asset_management")
    site = make_site("wk")
    repair = repair_request_submit(resident=site.resident, category="pest", description="ants")
    for step in ("acknowledged", "scheduled", "in_progress", "resolved"):
        repair = repair_transition(repair=repair, to_status=step, user=site.staff["maintenance"])
    complaint = complaint_file(
        resident=site.resident, category="noise", subject="s", description="d"
    )
    for step in ("in_review", "resolved"):
        complaint = complaint_transition(
            complaint=complaint, to_status=step, user=site.staff["customer_service"]
        )
    complaint_rate(complaint=complaint, user=site.resident, rating=5)
    # requested + 4 steps + filed + 2 steps + rated
    wait_until(lambda: processed("reporting.record_event") == 9, message="events processed")
    today = timezone.localdate()
    unchanged = {"counters": 0, "repair_periods": 0, "assets": 0}
    assert report_period_reconcile(today, today) == unchanged
    rated = DailyPropertyStat.objects.get(metric="complaints_rated")
    assert (rated.count, rated.total) == (1, 5)
    assert queue_depth("reporting.dlq") == 0


def test_scheduled_jobs_sent_twice_at_once_tell_nobody_twice(clean_queues, start_worker):

    site = make_site("sla")
    repair = repair_request_submit(
        resident=site.resident, category="heating", description="no heat", urgency="urgent"
    )
    RepairRequest.objects.filter(pk=repair.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=2)
    )
    start_worker("reporting", concurrency=2)
    for _ in range(2):
        app.send_task("scheduled.repair_sla_escalate", expires=60)
    wait_until(lambda: processed("scheduled.repair_sla_escalate") == 2, message="both runs")
    assert Notification.objects.filter(template="repair_sla_escalation").count() == 1
