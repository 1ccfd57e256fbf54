"""Issue #8.10: one X-Request-ID followed through the logs of real processes — the web
process (gunicorn, as the Procfile starts it), the relay and the workers' main and pool
processes — shows the request, its outbox rows, each consumer and each notification."""

import json
import re
import uuid

import pytest
import requests
from django.db import transaction

from apps.accounts.models import Role
from apps.accounts.services import api_token_issue
from apps.messaging.correlation import correlation
from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import publish
from apps.notifications.models import Notification
from devtools.processes import TEST_LOG_DIR, wait_until
from tests.factories import PropertyFactory, UnitFactory, UserFactory
from tests.probe.events import probe_event

pytestmark = pytest.mark.broker


def lines_with(text, needle):
    return [line for line in text.splitlines() if needle in line]


def test_one_request_id_through_web_workers_and_notifications(
    clean_queues, start_worker, start_service
):
    prop = PropertyFactory()
    resident = UserFactory(role=Role.RESIDENT, unit=UnitFactory(property=prop))
    staff = UserFactory(role=Role.CUSTOMER_SERVICE, property=prop)
    _, token_key = api_token_issue(resident)
    # No in-app worker: the staff notice is delivered by the consumer that decides it.
    worker = start_worker("complaints", "reporting")
    web = start_service("web", path="/healthz/")
    trail = f"trail-{uuid.uuid4().hex[:12]}"

    response = requests.post(
        web.url("/api/v1/complaints/"),
        json={"category": "noise", "subject": "Drums", "description": "At 3 am"},
        headers={"Authorization": f"Token {token_key}", "X-Request-ID": trail},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == trail
    notification = wait_until(
        lambda: Notification.objects.filter(user=staff, status="sent").first(),
        timeout=30,
        message="the staff notification sent",
    )
    rows = wait_until(
        lambda: (
            (r := list(OutboxMessage.objects.filter(correlation_id=trail))) and len(r) == 2 and r
        )
    )
    assert {r.task_name for r in rows} == {
        "customer_service.notify_complaint_filed",
        "reporting.record_event",
    }
    for row in rows:
        wait_until(lambda row=row: f"Task {row.task_name}[{row.id}] succeeded" in worker.logs())
    web_lines = lines_with(web.logs(), f"[{trail}]")
    worker_lines = lines_with(worker.logs(), f"[{trail}]")
    relay_lines = lines_with(worker.relay.logs(), f"[{trail}]")

    # The request; every row it and the consumers wrote, published by the relay.
    assert any("propmgmt.access: POST /api/v1/complaints/ 201" in line for line in web_lines)
    for row in rows:
        assert any(f"published {row.task_name}[{row.id}]" in line for line in relay_lines)
    # Each consumer: received (worker main process) and succeeded (pool process).
    for row in rows:
        for what in ("received", "succeeded"):
            assert any(f"Task {row.task_name}[{row.id}] {what}" in line for line in worker_lines)
    # The in-app notice the consumer decided was delivered in its transaction: no batch
    # message (before issue 27 a third row, notifications.deliver_in_app_batch).
    assert [h.status for h in notification.history.order_by("at", "id")] == ["pending", "sent"]
    # And no line about these messages is missing the id.
    for line in (web.logs() + worker.logs() + worker.relay.logs()).splitlines():
        if any(str(row.id) in line for row in rows) and re.match(r"^\d{4}-", line):
            assert f"[{trail}]" in line, line


def test_the_relay_logs_each_row_under_its_correlation_id(clean_queues, start_relay):
    with correlation("relay-trail-1"), transaction.atomic():
        [row] = publish(probe_event("probe.happened", {"key": "r"}))
    start_relay()
    wait_until(lambda: OutboxMessage.objects.get(pk=row.pk).published_at, timeout=20)
    log = (TEST_LOG_DIR / "relay-0.log").read_text()
    [line] = lines_with(log, str(row.id))
    assert "[relay-trail-1] apps.messaging.published: published probe.record" in line
    # The relay's own lines carry the command's id, not "-".
    started = lines_with(log, "outbox relay started")[0]
    assert re.search(r"\[[0-9a-f]{32}\] apps.messaging.relay", started), started


@pytest.mark.slow
def test_a_lost_worker_is_logged_under_the_messages_correlation_id(clean_queues, start_worker):
    worker = start_worker("visitor_management")
    with correlation("lost-trail-1"), transaction.atomic():
        [row] = publish(probe_event("probe.poison", {"key": "p"}))
    wait_until(lambda: "WorkerLostError" in worker.logs(), timeout=30)
    lost = [line for line in worker.logs().splitlines() if "WorkerLostError" in line]
    assert lost and all("[lost-trail-1]" in line for line in lost if line[:2] == "20"), lost
    received = lines_with(worker.logs(), f"Task probe.crash[{row.id}] received")
    assert received and all("[lost-trail-1]" in line for line in received)


def test_log_format_json_gives_one_json_object_per_line(clean_queues, start_worker):
    worker = start_worker("reporting", env={"LOG_FORMAT": "json"})
    with correlation("json-trail-1"), transaction.atomic():
        [row] = publish(probe_event("probe.happened", {"key": "j"}))
    wait_until(lambda: f"probe.record[{row.id}] succeeded" in worker.logs())
    records = [json.loads(line) for line in worker.logs().splitlines() if line.startswith("{")]
    assert records and all(
        {
            "time",
            "level",
            "process",
            "queue",
            "task_name",
            "message_id",
            "correlation_id",
            "message",
        }
        <= set(record)
        for record in records
    )
    about_row = [r for r in records if r["message_id"] == str(row.id)]
    for record in about_row:
        assert (record["correlation_id"], record["queue"], record["task_name"]) == (
            "json-trail-1",
            "reporting",
            "probe.record",
        )
    assert any(r["message"] == "probe effect j" for r in about_row)
    assert any(r["message"].endswith("received") for r in about_row)
