"""Visitors: pre-registration, check-in/out, walk-ins, 400/409 rules, events."""

import datetime

import pytest
from django.utils import timezone

from apps.messaging.models import OutboxMessage
from apps.visitors.models import Visitor
from tests.factories import VisitorFactory

pytestmark = pytest.mark.django_db


def expect(api, resident, hours=2, **extra):
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


def test_resident_pre_registers_for_own_unit(api, world, events):
    response = expect(api, world.a.resident)
    assert response.status_code == 201, response.content
    visitor = Visitor.objects.get(id=response.json()["id"])
    assert (visitor.unit, visitor.host, visitor.status) == (
        world.a.unit,
        world.a.resident,
        "expected",
    )
    assert "visitor.expected" in events()


def test_expected_arrival_in_the_past_is_a_400(api, world):
    response = expect(api, world.a.resident, hours=-1)
    assert response.status_code == 400 and "expected_arrival" in response.json()
    assert not Visitor.objects.exists() and not OutboxMessage.objects.exists()


def test_check_in_then_out_publishes_and_illegal_steps_are_409(api, world, events):
    visitor_id = expect(api, world.a.resident).json()["id"]
    security = api(world.user("security"))
    early_out = security.post(f"/api/v1/visitors/{visitor_id}/check-out/")
    assert early_out.status_code == 409 and "check" in early_out.json()["detail"].lower()
    assert security.post(f"/api/v1/visitors/{visitor_id}/check-in/").status_code == 200
    assert security.post(f"/api/v1/visitors/{visitor_id}/check-in/").status_code == 409
    assert security.post(f"/api/v1/visitors/{visitor_id}/check-out/").status_code == 200
    assert Visitor.objects.get(id=visitor_id).status == "departed"
    assert events()[-2:] == ["visitor.arrived", "visitor.departed"]


def test_residents_may_not_check_in_and_other_property_security_sees_nothing(api, world):
    visitor_id = expect(api, world.a.resident).json()["id"]
    assert api(world.a.resident).post(f"/api/v1/visitors/{visitor_id}/check-in/").status_code == 403
    other = api(world.user("security", "b"))
    assert other.post(f"/api/v1/visitors/{visitor_id}/check-in/").status_code == 404
    assert other.get("/api/v1/visitors/").json()["count"] == 0


def test_security_registers_a_walk_in_who_arrives_at_once(api, world, events):
    response = api(world.user("security")).post(
        "/api/v1/visitors/walk-in/",
        {"unit": world.a.unit.id, "name": "Courier", "host": world.a.resident.id},
        format="json",
    )
    assert response.status_code == 201, response.content
    visitor = Visitor.objects.get(id=response.json()["id"])
    assert visitor.walk_in and visitor.status == "arrived" and visitor.arrived_at
    assert events() == ["visitor.arrived"]


def test_resident_cancels_an_expected_visit_once(api, world, events):
    visitor = VisitorFactory(site=world.a)
    resident = api(world.a.resident)
    response = resident.post(f"/api/v1/visitors/{visitor.id}/cancel/")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["version"]) == ("cancelled", 2)
    detail = resident.get(f"/api/v1/visitors/{visitor.id}/").json()
    assert [e["status"] for e in detail["events"]] == ["expected", "cancelled"]
    again = resident.post(f"/api/v1/visitors/{visitor.id}/cancel/")
    assert again.status_code == 409 and "allowed actions: none" in again.json()["detail"]
    assert events() == []  # nobody subscribes to cancellations


def test_an_arrived_visitor_cannot_be_cancelled_and_others_cannot_cancel(api, world):
    visitor = VisitorFactory(site=world.a)
    assert (
        api(world.user("security", "b")).post(f"/api/v1/visitors/{visitor.id}/cancel/").status_code
        == 404
    )
    assert api(world.neighbour).post(f"/api/v1/visitors/{visitor.id}/cancel/").status_code == 404
    api(world.user("security")).post(f"/api/v1/visitors/{visitor.id}/check-in/")
    late = api(world.a.resident).post(f"/api/v1/visitors/{visitor.id}/cancel/")
    assert late.status_code == 409 and "allowed actions: check out" in late.json()["detail"]
    assert Visitor.objects.get(id=visitor.id).status == "arrived"


def test_check_out_stamps_who_and_when_and_only_visitor_staff_may(api, world, events):
    visitor = VisitorFactory(site=world.a, status="arrived", arrived_at=timezone.now())
    url = f"/api/v1/visitors/{visitor.id}/check-out/"
    assert api(world.a.resident).post(url).status_code == 403
    assert api(world.user("maintenance")).post(url).status_code == 403
    security = world.user("security")
    response = api(security).post(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["checked_out_by"], body["version"]) == (
        "departed",
        security.id,
        2,
    )
    assert body["departed_at"] is not None
    assert events() == ["visitor.departed"]
