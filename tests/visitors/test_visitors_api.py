"""Visitors: pre-registration, check-in/out, walk-ins, 400/409 rules, events."""

import datetime

import pytest
from django.utils import timezone

from apps.messaging.models import OutboxMessage
from apps.visitors.models import Visitor
from tests.fixtures_b import api, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def expect(api, resident, hours=2, **extra):  # noqa: F811
    arrival = timezone.now() + datetime.timedelta(hours=hours)
    return api(resident).post(
        "/api/v1/visitors/",
        {"name": "Grace", "expected_arrival": arrival.isoformat(), "purpose": "tea", **extra},
        format="json",
    )


@pytest.fixture
def events(observe_events):
    """Events published, in order."""
    return lambda: [row.event for row in observe_events()]


def test_resident_pre_registers_for_own_unit(api, world, events):  # noqa: F811
    response = expect(api, world.a.resident)
    assert response.status_code == 201, response.content
    visitor = Visitor.objects.get(id=response.json()["id"])
    assert (visitor.unit, visitor.host, visitor.status) == (
        world.a.unit,
        world.a.resident,
        "expected",
    )
    assert "visitor.expected" in events()


def test_expected_arrival_in_the_past_is_a_400(api, world):  # noqa: F811
    response = expect(api, world.a.resident, hours=-1)
    assert response.status_code == 400 and "expected_arrival" in response.json()
    assert not Visitor.objects.exists() and not OutboxMessage.objects.exists()


def test_check_in_then_out_publishes_and_illegal_steps_are_409(api, world, events):  # noqa: F811
    visitor_id = expect(api, world.a.resident).json()["id"]
    security = api(world.user("security"))
    early_out = security.post(f"/api/v1/visitors/{visitor_id}/check-out/")
    assert early_out.status_code == 409 and "check" in early_out.json()["detail"].lower()
    assert security.post(f"/api/v1/visitors/{visitor_id}/check-in/").status_code == 200
    assert security.post(f"/api/v1/visitors/{visitor_id}/check-in/").status_code == 409
    assert security.post(f"/api/v1/visitors/{visitor_id}/check-out/").status_code == 200
    assert Visitor.objects.get(id=visitor_id).status == "departed"
    assert events()[-2:] == ["visitor.arrived", "visitor.departed"]


def test_residents_may_not_check_in_and_other_property_security_sees_nothing(api, world):  # noqa: F811
    visitor_id = expect(api, world.a.resident).json()["id"]
    assert api(world.a.resident).post(f"/api/v1/visitors/{visitor_id}/check-in/").status_code == 403
    other = api(world.user("security", "b"))
    assert other.post(f"/api/v1/visitors/{visitor_id}/check-in/").status_code == 404
    assert other.get("/api/v1/visitors/").json()["count"] == 0


def test_security_registers_a_walk_in_who_arrives_at_once(api, world, events):  # noqa: F811
    response = api(world.user("security")).post(
        "/api/v1/visitors/walk-in/",
        {"unit": world.a.unit.id, "name": "Courier", "host": world.a.resident.id},
        format="json",
    )
    assert response.status_code == 201, response.content
    visitor = Visitor.objects.get(id=response.json()["id"])
    assert visitor.walk_in and visitor.status == "arrived" and visitor.arrived_at
    assert events() == ["visitor.arrived"]
