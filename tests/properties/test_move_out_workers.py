"""A move-out requested in the API and decided by a manager, through real workers: only an
approved day is applied by the move job (sent twice, as beat may), once; a rejected one
never is (#25). The API and admin cases are in test_move_out_requests.py."""

import pytest
from django.test import Client

from apps.messaging.models import OutboxMessage, ProcessedMessage
from apps.properties.models import MoveOutRequest
from apps.properties.selectors import residencies_in_force
from propmgmt.celery import app
from tests.conftest import queue_depth, wait_until
from tests.fixtures.demo import demo_install, login
from tests.properties.test_move_out_requests import (
    DAY,
    MO,
    TODAY,
    api_step,
    ask,
    residency_of,
    the_day_passes,
    users,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.broker]


def test_requested_approved_and_ended_by_the_move_job(clean_queues, start_worker, api):
    demo_install()
    alice, manager = users("alice", "manager")
    residency = residency_of(alice)
    last_day = TODAY() + 2 * DAY
    asked = ask(api, alice, end_date=str(last_day), note="New job in Lyon")
    assert asked.status_code == 201, asked.data
    move_out = asked.data
    assert move_out["status"] == "requested" and move_out["residency"] == residency.pk
    assert move_out["allowed_transitions"] == ["withdrawn"]
    assert [h["to_status"] for h in move_out["history"]] == ["requested"]
    # Asked is not decided: nothing changed on the residency.
    assert residency_of(alice).end_date is None
    seen = api(manager).get(f"{MO}{move_out['id']}/").json()
    assert seen["allowed_transitions"] == ["approved", "rejected"]

    approved = api_step(api, manager, move_out["id"], "approved", note="OK", version=1)
    assert approved.status_code == 200, approved.data
    assert approved.data["status"] == "approved" and approved.data["version"] == 2
    assert residency_of(alice).end_date == last_day
    assert [h["to_status"] for h in approved.data["history"]] == ["requested", "approved"]

    # Until the last day has passed, the job leaves the residency alone.
    start_worker("reporting", concurrency=1)
    app.send_task("scheduled.residency_moves_process", expires=60)
    done = ProcessedMessage.objects.filter(consumer="scheduled.residency_moves_process")
    wait_until(lambda: done.count() == 1, message="the first run")
    assert not OutboxMessage.objects.filter(event="residency.ended").exists()
    assert residencies_in_force().filter(pk=residency.pk).exists()

    for _ in range(3):  # the requested last day is over
        the_day_passes(residency)
    for _ in range(2):
        app.send_task("scheduled.residency_moves_process", expires=60)
    wait_until(lambda: done.count() == 3, message="two more runs")
    ended = OutboxMessage.objects.filter(event="residency.ended")
    assert {row.payload[0]["data"]["residency_id"] for row in ended} == {residency.pk}
    assert ended.count() == len(set(ended.values_list("task_name", flat=True)))  # once each
    assert residency_of(alice).ended_at is not None
    assert not residencies_in_force().filter(pk=residency.pk).exists()
    assert api(alice).get("/api/v1/units/").json()["count"] == 0  # no more rights
    # The request stays theirs to read.
    assert api(alice).get(f"{MO}{move_out['id']}/").json()["status"] == "approved"
    assert queue_depth("reporting.dlq") == 0


def test_a_rejected_request_is_not_applied_by_the_move_job(clean_queues, start_worker, api):
    demo_install()
    alice, manager = users("alice", "manager")
    residency = residency_of(alice)
    move_out = ask(api, alice, end_date=str(TODAY())).data
    # The manager rejects it in the admin, with a note.
    client = Client()
    assert login(client, "manager").status_code == 302
    page = f"/admin/properties/moveoutrequest/{move_out['id']}/step/rejected/"
    answer = client.post(page, {"workflow_apply": "1", "note": "Lease runs to June"})
    assert answer.status_code == 302, answer.content[:500]
    rejected = MoveOutRequest.objects.get(pk=move_out["id"])
    assert rejected.status == "rejected"
    assert rejected.history.last().note == "Lease runs to June"
    assert residency_of(alice).end_date is None
    the_day_passes(residency)
    start_worker("reporting", concurrency=1)
    for _ in range(2):
        app.send_task("scheduled.residency_moves_process", expires=60)
    done = ProcessedMessage.objects.filter(consumer="scheduled.residency_moves_process")
    wait_until(lambda: done.count() == 2, message="both runs")
    assert not OutboxMessage.objects.filter(event="residency.ended").exists()
    assert residencies_in_force().filter(pk=residency.pk).exists()
    assert api(alice).get("/api/v1/units/").json()["count"] == 1
    assert manager  # the demo manager decided
