"""Repair notices follow the unit (#25), through real workers: a resident files a repair,
moves out, someone moves in, and the maintenance staff move the repair on; the new resident
is told, the former one is not (and still reads what they filed)."""

import datetime

import pytest
from django.utils import timezone

from apps.notifications.models import Notification
from tests.conftest import queue_depth, wait_until
from tests.factories import ResidencyFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.broker]

R = "/api/v1/repairs/"


def test_repair_status_notices_go_to_who_lives_in_the_unit_now(
    clean_queues, start_worker, world, api
):
    site = world.a
    former = site.resident
    filed = api(former).post(R, {"category": "plumbing", "description": "Leak"}, format="json")
    assert filed.status_code == 201, filed.data
    repair_id = filed.data["id"]
    start_worker("repair_requests", "notifications_in_app", concurrency=2)
    staff = api(site.staff["maintenance"])

    def move_on(status):
        answer = staff.post(f"{R}{repair_id}/transition/", {"status": status}, format="json")
        assert answer.status_code == 200, answer.data

    told = Notification.objects.filter(template="repair_status_resident")
    # While they live there, the filer is told.
    move_on("acknowledged")
    wait_until(lambda: told.filter(user=former, status="sent").count() == 1, message="filer told")

    # They move out (yesterday was their last day) and a newcomer moves in today.
    residency = former.residencies.get()
    residency.end_date = timezone.localdate() - datetime.timedelta(days=1)
    residency.save()
    newcomer = UserFactory()
    ResidencyFactory(resident=newcomer, unit=site.unit, start_date=timezone.localdate())
    move_on("scheduled")
    wait_until(
        lambda: told.filter(user=newcomer, status="sent").count() == 1, message="newcomer told"
    )
    [notice] = told.filter(user=newcomer)
    assert "Scheduled" in notice.subject and f"#{repair_id}" in notice.body_text
    assert told.filter(user=former).count() == 1  # only the notice from before the move
    assert not told.exclude(user__in=[former, newcomer]).exists()
    # What they filed stays theirs to read.
    assert api(former).get(f"{R}{repair_id}/").json()["status"] == "scheduled"
    inbox = api(newcomer).get("/api/v1/notifications/").json()
    assert [n["id"] for n in inbox["results"]] == [str(notice.pk)]
    assert queue_depth("repair_requests.dlq") == 0
