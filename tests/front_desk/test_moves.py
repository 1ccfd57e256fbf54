"""Move-out and move-in through real workers: on the end date the office's job (sent twice,
as beat may) ends the residency once; the former resident loses the unit's rights at once,
their expected visitor is cancelled and security is told, their waiting parcel is flagged
to the desk, and reporting counts the move-out (and a planned move-in once its day comes)."""

import datetime

import pytest
from django.utils import timezone

from apps.messaging.models import OutboxMessage, ProcessedMessage
from apps.notifications.models import Notification
from apps.properties.models import Residency
from apps.properties.services import residency_moves_process
from apps.reporting.models import DailyPropertyStat
from apps.visitors.models import VisitorStatus
from propmgmt.celery import app
from tests.conftest import NOTIFICATION_QUEUES, queue_depth, wait_until
from tests.factories import (
    ComplaintFactory,
    ParcelFactory,
    RepairRequestFactory,
    ResidencyFactory,
    UserFactory,
    VisitorFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def processed(consumer):
    return ProcessedMessage.objects.filter(consumer=consumer).count()


def moved(metric):
    return sum(DailyPropertyStat.objects.filter(metric=metric).values_list("count", flat=True))


@pytest.mark.broker
def test_a_move_out_with_a_visitor_expected_and_a_parcel_waiting(
    clean_queues, start_worker, world, api
):
    site = world.a
    visitor = VisitorFactory(site=site)
    parcel = ParcelFactory(site=site)
    other_visitor = VisitorFactory(site=world.b)
    resident = api(site.resident)
    assert resident.get("/api/v1/parcels/").json()["count"] == 1
    # The manager planned the move-out: yesterday was the resident's last day.
    residency = site.resident.residencies.get()
    residency.end_date = timezone.localdate() - datetime.timedelta(days=1)
    residency.save()
    # Rights end at once, before any job runs (the residency rule).
    assert resident.get("/api/v1/parcels/").json()["count"] == 0
    assert resident.get(f"/api/v1/visitors/{visitor.pk}/").status_code == 404
    assert (
        resident.post(
            "/api/v1/repairs/", {"category": "pest", "description": "x"}, format="json"
        ).status_code
        == 400
    )

    start_worker("reporting", "front_desk", *NOTIFICATION_QUEUES, concurrency=2)
    for _ in range(2):
        app.send_task("scheduled.residency_moves_process", expires=60)
    wait_until(lambda: processed("scheduled.residency_moves_process") == 2, message="both runs")
    wait_until(
        lambda: processed("front_desk.notify_residency_ended") == 1,
        timeout=30,
        message="the desk told of the move-out",
    )
    assert OutboxMessage.objects.filter(event="residency.ended").count() == 3  # three subscribers
    visitor.refresh_from_db()
    parcel.refresh_from_db()
    other_visitor.refresh_from_db()
    assert visitor.status == VisitorStatus.CANCELLED
    assert other_visitor.status == VisitorStatus.EXPECTED
    assert parcel.recipient_moved_out and parcel.status == "waiting"
    desk = api(site.staff["security"]).get(f"/api/v1/parcels/{parcel.pk}/").json()
    assert desk["recipient_moved_out"] is True and desk["status"] == "waiting"
    told = Notification.objects.filter(template="residency_ended_desk")
    wait_until(lambda: told.filter(status="sent").count() == 2, message="security and manager")
    assert {n.user for n in told} == {site.staff["security"], site.staff["manager"]}
    assert visitor.name in told[0].body_text and parcel.tracking_number in told[0].body_text
    wait_until(lambda: moved("residents_moved_out") == 1, message="the move-out counted")
    assert Residency.objects.get(pk=residency.pk).ended_at is not None
    assert queue_depth("front_desk.dlq") == 0 and queue_depth("reporting.dlq") == 0


def test_a_planned_move_in_starts_on_its_day_once(world, observe_events):
    newcomer = UserFactory()
    planned = ResidencyFactory(
        resident=newcomer,
        unit=world.a.unit,
        start_date=timezone.localdate() + datetime.timedelta(days=2),
    )
    residency_moves_process()
    started = [e.payload[0]["data"]["residency_id"] for e in observe_events("residency.started")]
    assert planned.pk not in started  # not yet
    in_two_days = timezone.now() + datetime.timedelta(days=2)
    assert residency_moves_process(now=in_two_days)[0] >= 1
    assert residency_moves_process(now=in_two_days) == (0, 0)  # run twice: once
    started = [e.payload[0]["data"]["residency_id"] for e in observe_events("residency.started")]
    assert started.count(planned.pk) == 1


def test_the_job_publishes_each_move_in_once(world, observe_events):
    # The world's residencies started a month ago, after the migration stamped the old ones.
    first = residency_moves_process()
    assert first[0] == Residency.objects.count() and first[1] == 0
    assert residency_moves_process() == (0, 0)


def test_a_former_resident_reads_what_they_filed_and_acts_on_nothing(world, api):
    site = world.a
    resident = api(site.resident)
    repair = RepairRequestFactory(site=site)
    complaint = ComplaintFactory(site=site, status="resolved")
    flatmates = RepairRequestFactory(site=site, resident=UserFactory(unit=site.unit))
    residency = site.resident.residencies.get()
    residency.end_date = timezone.localdate() - datetime.timedelta(days=1)
    residency.save()
    # What they filed stays theirs to read; the unit's other repairs are no longer theirs.
    listed = resident.get("/api/v1/repairs/").json()
    assert [r["id"] for r in listed["results"]] == [repair.pk]
    assert resident.get(f"/api/v1/repairs/{repair.pk}/").status_code == 200
    assert resident.get(f"/api/v1/repairs/{repair.pk}/history/").status_code == 200
    assert resident.get(f"/api/v1/repairs/{flatmates.pk}/").status_code == 404
    listed = resident.get("/api/v1/complaints/").json()
    assert [c["id"] for c in listed["results"]] == [complaint.pk]
    assert resident.get(f"/api/v1/complaints/{complaint.pk}/").status_code == 200
    assert resident.get(f"/api/v1/complaints/{complaint.pk}/comments/").status_code == 200
    # Acting on them is refused, and nothing changed.
    steps = [
        (f"/api/v1/repairs/{repair.pk}/transition/", {"status": "cancelled"}),
        (f"/api/v1/complaints/{complaint.pk}/comments/", {"body": "Still noisy"}),
        (f"/api/v1/complaints/{complaint.pk}/rate/", {"rating": 5}),
    ]
    for url, body in steps:
        refused = resident.post(url, body, format="json")
        assert refused.status_code == 403, (url, refused.data)
        assert "no longer live" in str(refused.data), refused.data
    repair.refresh_from_db()
    complaint.refresh_from_db()
    assert repair.status == "submitted" and repair.history.count() == 1
    assert complaint.rating is None and not complaint.comments.exists()
    # Nor may they file anything new for the unit.
    filing = {"category": "noise", "subject": "x", "description": "x", "unit": site.unit.pk}
    assert resident.post("/api/v1/complaints/", filing, format="json").status_code == 400
