"""The dead-letter tools: API (admins only), manage.py command and admin page."""

import uuid

import pytest
from django.core.management import CommandError, call_command
from kombu import Producer
from kombu.transport.pyamqp import Channel
from rest_framework.test import APIClient

import celeryconfig
from apps.accounts.models import Role
from apps.messaging.broker import broker_connection, topology_declare
from apps.messaging.deadletters import dead_letter_replay
from apps.messaging.models import DeadLetterReplay
from tests.conftest import queue_depth
from tests.factories import MessageFailureFactory, UserFactory

pytestmark = [pytest.mark.broker, pytest.mark.django_db]


def dead_letter(queue, key="k"):
    """Put a real dead letter in `<queue>.dlq`: publish to the queue, then reject it."""
    message_id = str(uuid.uuid4())
    with broker_connection(confirm_publish=True) as connection:
        Producer(connection.default_channel).publish(
            [
                {
                    "event": "probe.happened",
                    "occurred_at": "2026-01-01T00:00:00+00:00",
                    "data": {"key": key},
                }
            ],
            exchange=celeryconfig.WORK_EXCHANGE.name,
            routing_key=queue,
            serializer="json",
            headers={"task": "probe.record", "id": message_id, "retries": 2},
            delivery_mode=2,
        )
        channel = connection.channel()
        message = celeryconfig.WORK_QUEUES[celeryconfig.WORK_QUEUE_NAMES.index(queue)](channel).get(
            no_ack=False
        )
        message.reject(requeue=False)
        channel.close()
    MessageFailureFactory(
        message_id=message_id, consumer="probe.record", queue=queue, reason="boom", attempts=3
    )
    return message_id


def api_client(role, **extra):
    user = UserFactory(role=role, **extra)
    client = APIClient()
    client.force_authenticate(user)
    return client, user


def test_only_admins_may_use_the_api(clean_queues):
    assert APIClient().get("/api/v1/ops/dead-letters/").status_code == 401
    for role in (Role.RESIDENT, Role.MANAGER, Role.MAINTENANCE, Role.SECURITY):
        client, _ = api_client(role)
        assert client.get("/api/v1/ops/dead-letters/").status_code == 403, role
        response = client.post("/api/v1/ops/dead-letters/complaints/purge/", {"all": True})
        assert response.status_code == 403, role


def test_api_lists_shows_replays_and_purges(clean_queues):
    first, second = dead_letter("complaints", "a"), dead_letter("complaints", "b")
    client, admin = api_client(Role.ADMIN)

    listing = client.get("/api/v1/ops/dead-letters/", {"queue": "complaints"}).json()
    assert listing["count"] == 2
    by_id = {letter["message_id"]: letter for letter in listing["results"]}
    assert by_id[first]["reason"] == "boom" and by_id[first]["attempts"] == 3
    assert by_id[first]["queue"] == "complaints" and by_id[first]["first_death_at"]
    assert queue_depth("complaints.dlq") == 2  # listing removes nothing

    detail = client.get(f"/api/v1/ops/dead-letters/complaints/{first}/")
    assert detail.status_code == 200 and detail.json()["payload"][0]["data"] == {"key": "a"}
    assert client.get("/api/v1/ops/dead-letters/complaints/nope/").status_code == 404

    replayed = client.post(
        "/api/v1/ops/dead-letters/complaints/replay/", {"message_id": first}, format="json"
    )
    assert replayed.status_code == 200 and replayed.json()["message_ids"] == [first]
    assert queue_depth("complaints") == 1 and queue_depth("complaints.dlq") == 1
    audit = DeadLetterReplay.objects.get(message_id=first)
    assert (audit.action, audit.performed_by, audit.performed_via) == ("replay", admin, "api")

    # The replayed message keeps its id, loses its death record and retry count.
    with broker_connection() as connection:
        channel = connection.channel()
        message = celeryconfig.WORK_QUEUES[celeryconfig.WORK_QUEUE_NAMES.index("complaints")](
            channel
        ).get(no_ack=False)
        assert message.headers["id"] == first and message.headers["retries"] == 0
        assert "x-death" not in message.headers
        channel.close()

    purged = client.post("/api/v1/ops/dead-letters/complaints/purge/", {"all": True}, format="json")
    assert purged.json()["message_ids"] == [second]
    assert queue_depth("complaints.dlq") == 0


def test_api_rejects_bad_requests_without_changing_anything(clean_queues):
    letter = dead_letter("reporting")
    client, _ = api_client(Role.ADMIN)
    both = client.post(
        "/api/v1/ops/dead-letters/reporting/replay/",
        {"message_id": letter, "all": True},
        format="json",
    )
    assert both.status_code == 400
    assert (
        client.post("/api/v1/ops/dead-letters/reporting/replay/", {}, format="json").status_code
        == 400
    )
    unknown = client.get("/api/v1/ops/dead-letters/", {"queue": "nowhere"})
    assert unknown.status_code == 404 and "known queues" in unknown.json()["detail"]
    assert queue_depth("reporting.dlq") == 1 and not DeadLetterReplay.objects.exists()


def test_command_lists_shows_replays_and_purges(clean_queues, capsys):
    letter = dead_letter("notifications")
    call_command("deadletters", "list", "--queue", "notifications")
    assert letter in capsys.readouterr().out
    call_command("deadletters", "show", "--id", letter)
    assert '"reason": "boom"' in capsys.readouterr().out
    with pytest.raises(CommandError, match="give --id"):
        call_command("deadletters", "replay")
    with pytest.raises(CommandError, match="--all needs --queue"):
        call_command("deadletters", "purge", "--all")
    with pytest.raises(CommandError, match="unknown queue"):
        call_command("deadletters", "list", "--queue", "nowhere")
    call_command("deadletters", "replay", "--id", letter)
    assert "replayed 1" in capsys.readouterr().out
    assert queue_depth("notifications") == 1
    with pytest.raises(CommandError, match="no dead letter"):
        call_command("deadletters", "replay", "--id", letter)


def test_admin_page_lists_and_replays(clean_queues):
    letter = dead_letter("visitor_management")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_login(admin)
    page = client.get("/admin/messaging/deadletterreplay/dead-letters/?queue=visitor_management")
    assert page.status_code == 200 and letter in page.content.decode()
    response = client.post(
        "/admin/messaging/deadletterreplay/dead-letters/",
        {"queue": "visitor_management", "message_id": letter, "action": "replay"},
    )
    assert response.status_code == 302
    assert DeadLetterReplay.objects.get(message_id=letter).performed_via == "admin"
    assert queue_depth("visitor_management") == 1


def test_admin_page_is_refused_to_staff_who_are_not_admins(clean_queues):
    manager = UserFactory(role=Role.MANAGER, is_staff=True)
    client = APIClient()
    client.force_login(manager)
    response = client.get("/admin/messaging/deadletterreplay/dead-letters/")
    assert response.status_code == 302


def test_replaying_one_dead_letter_reads_up_to_it_not_the_whole_queue(clean_queues, monkeypatch):
    ids = [dead_letter("complaints", key=f"k{i}") for i in range(20)]
    gets = []
    get = Channel.basic_get
    monkeypatch.setattr(
        Channel, "basic_get", lambda self, *a, **k: gets.append(1) or get(self, *a, **k)
    )
    assert dead_letter_replay("complaints", ids[2], via="test") == [ids[2]]
    assert len(gets) == 3  # stopped at the message asked for
    assert queue_depth("complaints.dlq") == 19 and queue_depth("complaints") == 1


def test_a_replay_its_queue_does_not_take_keeps_the_dead_letter(clean_queues):
    letter = dead_letter("complaints")
    client, _ = api_client(Role.ADMIN)
    with broker_connection() as connection:
        channel = connection.channel()
        channel.queue_delete("complaints")
        channel.close()
    try:
        response = client.post(
            "/api/v1/ops/dead-letters/complaints/replay/", {"message_id": letter}, format="json"
        )
        assert response.status_code == 409, response.content
        assert "stays in complaints.dlq" in response.json()["detail"]
        with pytest.raises(CommandError, match="NO_ROUTE"):
            call_command("deadletters", "replay", "--id", letter)
    finally:
        topology_declare()
    # Not acknowledged, not recorded as replayed: still there to replay once the queue is.
    assert queue_depth("complaints.dlq") == 1
    assert not DeadLetterReplay.objects.filter(message_id=letter).exists()
    assert dead_letter_replay("complaints", letter) == [letter]
    assert queue_depth("complaints") == 1
