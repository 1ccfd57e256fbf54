"""/api/v1/announcements/: what managers and residents get from it (who may do what is in
tests/test_permissions.py)."""

import datetime

import pytest
from django.utils import timezone

from apps.announcements import services
from tests.announcements.helpers import draft, run_batches, sent

pytestmark = pytest.mark.django_db
URL = "/api/v1/announcements/"


def later():
    return (timezone.now() + datetime.timedelta(hours=2)).isoformat()


def test_manager_writes_previews_sends_and_follows_progress(world, api):
    client = api(world.a.staff["manager"])
    created = client.post(
        URL,
        {
            "properties": [world.a.property.pk],
            "title": "Fire-alarm test",
            "body": "Friday 10:00",
            "channels": ["email"],
            "category": "maintenance",
        },
        format="json",
    )
    assert created.status_code == 201, created.data
    body = created.json()
    assert body["status"] == "draft" and body["channels"] == ["in_app", "email"]
    assert body["allowed_transitions"] == ["scheduled", "sending", "cancelled"]
    pk = body["id"]
    preview = client.get(f"{URL}{pk}/preview/").json()
    assert preview == {"recipients": 2, "by_property": {str(world.a.property.pk): 2}}
    assert client.post(f"{URL}{pk}/send/").json()["status"] == "sending"
    services.announcement_plan(pk)
    run_batches(services.Announcement.objects.get(pk=pk))
    detail = client.get(f"{URL}{pk}/").json()
    assert detail["status"] == "sent"
    assert detail["counts"] == {
        "recipients": 2,
        "sent": 2,  # the in-app notices: delivered by their creation
        "failed": 0,
        "pending": 2,  # the emails, until their worker sends them
        "read": 0,
        "in_digest": 0,
        "batches": 1,
        "batches_done": 1,
        "gone": 0,
    }
    assert [h["to_status"] for h in detail["history"]] == ["draft", "sending", "sent"]
    refused = client.post(f"{URL}{pk}/cancel/")
    assert refused.status_code == 409
    assert refused.json()["allowed_transitions"] == [] and "'sent'" in refused.json()["detail"]


def test_bad_input_is_400_with_field_messages(world, api):
    client = api(world.a.staff["manager"])
    answer = client.post(URL, {"properties": [], "title": "", "channels": ["fax"]}, format="json")
    assert answer.status_code == 400
    assert {"properties", "title", "body", "channels"} <= set(answer.json())
    foreign = client.post(
        URL,
        {
            "properties": [world.a.property.pk],
            "units": [world.b.unit.pk],
            "title": "t",
            "body": "b",
        },
        format="json",
    )
    assert foreign.status_code == 400 and "units" in foreign.json()
    pk = draft(world.a).pk
    past = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    answer = client.post(f"{URL}{pk}/schedule/", {"send_at": past}, format="json")
    assert answer.status_code == 400 and "send_at" in answer.json()


def test_residents_read_theirs_newest_first_and_mark_them_read(world, api):
    first, second = sent(world.a), sent(world.a)
    client = api(world.a.resident)
    listing = client.get(URL).json()["results"]
    assert [row["id"] for row in listing] == [second.pk, first.pk]
    assert set(listing[0]) == {"id", "category", "title", "body", "sending_started_at", "read"}
    assert client.post(f"{URL}{first.pk}/read/").status_code == 204
    assert client.get(f"{URL}{first.pk}/").json()["read"] is True
    counts = api(world.a.staff["manager"]).get(f"{URL}{first.pk}/").json()["counts"]
    assert counts["read"] == 1
    # The in-app inbox has it too (and reading there is the same read).
    inbox = client.get("/api/v1/notifications/").json()["results"]
    assert {n["subject"] for n in inbox} >= {first.title}


@pytest.mark.parametrize("field", ["properties", "units"])
def test_id_lists_are_capped_before_any_lookup(world, api, field, django_assert_max_num_queries):
    """A list of 100,000 ids is refused with a field message, without a query per id."""
    body = {"properties": [world.a.property.pk], "title": "t", "body": "b"}
    body[field] = [world.a.property.pk if field == "properties" else world.a.unit.pk] * 100_000
    with django_assert_max_num_queries(10):
        answer = api(world.a.staff["manager"]).post(URL, body, format="json")
    assert answer.status_code == 400 and "no more than" in answer.json()[field][0]
