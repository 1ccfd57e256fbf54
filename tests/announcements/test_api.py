"""/api/v1/announcements/: the permission matrix (every endpoint × role × own/other
property) and what managers and residents get from it."""

import datetime

import pytest
from django.utils import timezone

from apps.announcements import services
from tests.announcements.helpers import run_batches
from tests.factories import ROLES

pytestmark = pytest.mark.django_db
URL = "/api/v1/announcements/"


def draft(site, **fields):
    return services.announcement_create(
        by=site.staff["manager"], properties=[site.property], title=f"To {site.property}",
        body="Lift B out of service.", **fields,
    )  # fmt: skip


def sent(site):
    announcement = draft(site)
    services.announcement_send_now(announcement, by=site.staff["manager"])
    services.announcement_plan(announcement.pk)
    run_batches(announcement)
    return announcement


def later():
    return (timezone.now() + datetime.timedelta(hours=2)).isoformat()


ENDPOINTS = {
    "list": (sent, "get", lambda o: URL, None),
    "retrieve": (sent, "get", lambda o: f"{URL}{o.pk}/", None),
    "create": (None, "post", lambda o: URL,
               lambda site: {"properties": [site.property.pk], "title": "t", "body": "b",
                             "channels": ["email"]}),
    "preview": (draft, "get", lambda o: f"{URL}{o.pk}/preview/", None),
    "schedule": (draft, "post", lambda o: f"{URL}{o.pk}/schedule/",
                 lambda site: {"send_at": later()}),
    "send": (draft, "post", lambda o: f"{URL}{o.pk}/send/", None),
    "cancel": (draft, "post", lambda o: f"{URL}{o.pk}/cancel/", None),
    "read": (sent, "post", lambda o: f"{URL}{o.pk}/read/", None),
    "failures": (sent, "get", lambda o: f"{URL}{o.pk}/failures/", None),
}  # fmt: skip

# columns:   resident     maintenance  security     customer_s.  manager      admin
EXPECTED = {
    "list":      [("in", "out"), ("out", "out"), ("out", "out"), ("out", "out"),
                  ("in", "out"), ("in", "in")],
    "retrieve":  [(200, 404), (404, 404), (404, 404), (404, 404), (200, 404), (200, 200)],
    "create":    [(403, 403), (403, 403), (403, 403), (403, 403), (201, 400), (201, 201)],
    "preview":   [(403, 403), (403, 403), (403, 403), (403, 403), (200, 404), (200, 200)],
    "schedule":  [(403, 403), (403, 403), (403, 403), (403, 403), (200, 404), (200, 200)],
    "send":      [(403, 403), (403, 403), (403, 403), (403, 403), (200, 404), (200, 200)],
    "cancel":    [(403, 403), (403, 403), (403, 403), (403, 403), (200, 404), (200, 200)],
    "read":      [(204, 404), (404, 404), (404, 404), (404, 404), (409, 404), (409, 409)],
    "failures":  [(403, 403), (403, 403), (403, 403), (403, 403), (200, 404), (200, 200)],
}  # fmt: skip

CASES = [
    pytest.param(endpoint, role, which, EXPECTED[endpoint][i][j], id=f"{endpoint}-{role}-{which}")
    for endpoint in ENDPOINTS
    for i, role in enumerate(ROLES)
    for j, which in enumerate(("own", "other"))
]


def test_matrix_covers_every_endpoint():
    assert set(EXPECTED) == set(ENDPOINTS)
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


@pytest.mark.parametrize(("endpoint", "role", "which", "expected"), CASES)
def test_permission_matrix(world, api, endpoint, role, which, expected):
    make, method, url, body = ENDPOINTS[endpoint]
    site = world.a if which == "own" else world.b
    obj = make(site) if make else None
    data = body(site) if body else None
    response = getattr(api(world.user(role)), method)(url(obj), data, format="json")
    if expected in ("in", "out"):
        assert response.status_code == 200, response.data
        ids = {row["id"] for row in response.data["results"]}
        assert (obj.pk in ids) == (expected == "in")
    else:
        assert response.status_code == expected, getattr(response, "data", None)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_anonymous_is_401(world, api, endpoint):
    make, method, url, body = ENDPOINTS[endpoint]
    obj = make(world.a) if make else None
    response = getattr(api(), method)(url(obj), body(world.a) if body else None, format="json")
    assert response.status_code == 401


def test_manager_writes_previews_sends_and_follows_progress(world, api):
    client = api(world.a.staff["manager"])
    created = client.post(
        URL,
        {"properties": [world.a.property.pk], "title": "Fire-alarm test", "body": "Friday 10:00",
         "channels": ["email"], "category": "maintenance"},
        format="json",
    )  # fmt: skip
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
        "recipients": 2, "sent": 0, "failed": 0, "pending": 4, "read": 0, "in_digest": 0,
        "batches": 1, "batches_done": 1,
    }  # fmt: skip
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
        URL, {"properties": [world.a.property.pk], "units": [world.b.unit.pk], "title": "t",
              "body": "b"}, format="json",
    )  # fmt: skip
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
