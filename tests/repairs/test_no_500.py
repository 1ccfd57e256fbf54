"""Odd input never produces a 500."""

import pytest

from apps.complaints import services as complaint_services
from apps.repairs import services

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.fixture
def objects(world):
    repair = services.repair_request_submit(
        resident=world.a.resident, category="pest", description="Mice"
    )
    complaint = complaint_services.complaint_file(
        resident=world.a.resident, category="noise", subject="s", description="d"
    )
    return repair, complaint


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/repairs/{HUGE}/",
        f"/api/v1/complaints/{HUGE}/comments/",
        f"/api/v1/repairs/?property={HUGE}",
        "/api/v1/repairs/?property=1.5",
        "/api/v1/repairs/?property=1e400",
        "/api/v1/repairs/?page=abc",
        "/api/v1/repairs/?page=99999",
        "/api/v1/repairs/?created_from=2024-02-30",
        "/api/v1/repairs/?ordering=-urgency,nope,,",
        "/api/v1/complaints/?rated=maybe",
        f"/api/v1/complaints/?unit={HUGE}",
        "/api/v1/repairs/?status=%00",
        "/api/v1/repairs/-1/",
        "/api/v1/repairs/%00/history/",
    ],
)
@pytest.mark.parametrize("role", ["resident", "admin", "maintenance", "customer_service"])
def test_odd_queries(world, api, objects, path, role):
    r = api(world.user(role)).get(path)
    assert r.status_code < 500


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/repairs/", {"category": "pest", "description": "x", "unit": HUGE}),
        ("/api/v1/repairs/", {"category": "pest", "description": "x\x00y"}),
        (
            "/api/v1/repairs/",
            {"category": "pest", "description": "x", "preferred_time": "9999-12-31T23:59:59Z"},
        ),
        ("/api/v1/repairs/", [1, 2]),
        ("/api/v1/repairs/", "just a string"),
        ("/api/v1/repairs/{r}/transition/", {"status": "cancelled", "version": HUGE}),
        ("/api/v1/repairs/{r}/transition/", {"status": "cancelled", "note": {"a": 1}}),
        ("/api/v1/repairs/{r}/transition/", ["cancelled"]),
        (
            "/api/v1/complaints/",
            {"category": "noise", "subject": "s", "description": "d", "unit": -5},
        ),
        ("/api/v1/complaints/{c}/comments/", {"body": "\x00"}),
        ("/api/v1/complaints/{c}/rate/", {"rating": HUGE}),
        ("/api/v1/complaints/{c}/rate/", {"rating": True}),
        ("/api/v1/complaints/{c}/transition/", {"status": "resolved", "version": -1}),
    ],
)
@pytest.mark.parametrize("role", ["resident", "admin", "customer_service"])
def test_odd_bodies(world, api, objects, path, body, role):
    repair, complaint = objects
    url = path.format(r=repair.pk, c=complaint.pk)
    r = api(world.user(role)).post(url, body, format="json")
    assert r.status_code < 500, r.data


def test_malformed_json(world, api, objects):
    r = api(world.a.resident).post(
        "/api/v1/repairs/", data="{bad json", content_type="application/json"
    )
    assert r.status_code == 400
