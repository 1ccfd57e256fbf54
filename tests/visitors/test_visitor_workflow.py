"""Visitors: exact event payloads, history, cancel, rollback, 400s, filters."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.core.errors import Conflict
from apps.messaging.models import OutboxMessage
from apps.visitors import services
from apps.visitors.models import Visitor, VisitorStatusChange
from tests.factories import PropertyFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

V = "/api/v1/visitors/"


@pytest.fixture
def site():
    prop = PropertyFactory(code="oak")
    unit = UnitFactory(property=prop, code="OAK-1")
    return {
        "property": prop,
        "unit": unit,
        "resident": UserFactory(role=Role.RESIDENT, unit=unit),
        "security": UserFactory(role=Role.SECURITY, property=prop),
    }


def soon(hours=1):
    return timezone.now() + datetime.timedelta(hours=hours)


def expected(site, name="Grace"):
    return services.visitor_expect(
        host=site["resident"], unit=site["unit"], name=name, expected_arrival=soon()
    )


def test_payloads_are_exact_for_each_step(site, observe_events):
    def payloads(event):
        return [row.payload[0]["data"] for row in observe_events(event)]

    visitor = expected(site)
    base = {
        "visitor_id": visitor.id,
        "property_id": site["property"].id,
        "unit_id": site["unit"].id,
        "host_id": site["resident"].id,
        "name": "Grace",
    }
    assert payloads("visitor.expected") == [
        {**base, "status": "expected", "version": 1, "arrived_at": None}
    ]
    visitor = services.visitor_check_in(visitor, by=site["security"])
    arrived = {
        **base,
        "status": "arrived",
        "version": 2,
        "arrived_at": visitor.arrived_at.isoformat(),
    }
    assert payloads("visitor.arrived") == [arrived]
    # Security is told too, on the visitor_management queue.
    security_row = OutboxMessage.objects.get(task_name="security.notify_visitor_arrived")
    assert (security_row.queue, security_row.payload[0]["data"]) == ("visitor_management", arrived)
    services.visitor_check_out(visitor, by=site["security"])
    [departed] = payloads("visitor.departed")
    assert departed == {**arrived, "status": "departed", "version": 3}


def test_history_and_who_checked(api, site):
    visitor = expected(site)
    services.visitor_check_in(visitor, by=site["security"])
    visitor = services.visitor_check_out(visitor, by=site["security"])
    assert visitor.checked_in_by == visitor.checked_out_by == site["security"]
    assert visitor.departed_at >= visitor.arrived_at
    history = VisitorStatusChange.objects.filter(visitor=visitor)
    assert list(history.values_list("from_status", "to_status", "changed_by")) == [
        ("", "expected", site["resident"].id),
        ("expected", "arrived", site["security"].id),
        ("arrived", "departed", site["security"].id),
    ]
    detail = api(site["resident"]).get(f"{V}{visitor.id}/").json()
    assert [e["status"] for e in detail["events"]] == ["expected", "arrived", "departed"]


def test_cancel_and_the_409s_name_allowed_steps(api, site):
    client = api(site["security"])
    visitor = expected(site)
    resident = api(site["resident"])
    assert resident.post(f"{V}{visitor.id}/cancel/").status_code == 200
    for step in ("check-in", "check-out", "cancel"):
        response = client.post(f"{V}{visitor.id}/{step}/")
        assert response.status_code == 409
        assert "allowed actions: none" in response.json()["detail"]
    assert not OutboxMessage.objects.exclude(event="visitor.expected").exists()
    arrived = services.visitor_check_in(expected(site, "Ada"), by=site["security"])
    response = resident.post(f"{V}{arrived.id}/cancel/")
    assert response.status_code == 409 and "check out" in response.json()["detail"]
    early = client.post(f"{V}{expected(site, 'Bo').id}/check-out/")
    assert "check in, cancel" in early.json()["detail"]


def test_rolled_back_check_in_publishes_nothing(site):
    visitor = expected(site)
    OutboxMessage.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.visitor_check_in(visitor, by=site["security"])
        raise RuntimeError("boom")
    visitor.refresh_from_db()
    assert (visitor.status, visitor.version, visitor.arrived_at) == ("expected", 1, None)
    assert not OutboxMessage.objects.exists() and visitor.history.count() == 1


def test_pre_registration_400s(api, site):
    client = api(site["resident"])
    response = client.post(V, {"name": "", "expected_arrival": "yesterday"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "expected_arrival"}
    homeless = api(UserFactory(role=Role.RESIDENT))
    response = homeless.post(
        V, {"name": "Grace", "expected_arrival": soon().isoformat()}, format="json"
    )
    assert response.status_code == 400 and "unit" in response.json()
    assert not Visitor.objects.exists()


def test_staff_may_not_pre_register_and_walk_in_rules(api, site):
    security = api(site["security"])
    body = {"name": "Grace", "expected_arrival": soon().isoformat()}
    assert security.post(V, body, format="json").status_code == 403
    other_unit = UnitFactory(property=PropertyFactory(), code="ELM-1")
    response = security.post(f"{V}walk-in/", {"unit": other_unit.id, "name": "X"}, format="json")
    assert response.status_code == 400 and "unit" in response.json()
    stranger = UserFactory(role=Role.RESIDENT, unit=other_unit)
    response = security.post(
        f"{V}walk-in/", {"unit": site["unit"].id, "name": "X", "host": stranger.id}, format="json"
    )
    assert response.status_code == 400 and "host" in response.json()
    # Without a host, the unit's resident hosts the walk-in.
    response = security.post(f"{V}walk-in/", {"unit": site["unit"].id, "name": "X"}, format="json")
    assert response.status_code == 201 and response.json()["host"] == site["resident"].id


def test_filters_ordering_and_counts(api, site):
    first, second = expected(site, "Ann"), expected(site, "Bea")
    services.visitor_check_in(second, by=site["security"])
    client = api(site["security"])
    body = client.get(V, {"status": "arrived"}).json()
    assert body["count"] == 1 and body["results"][0]["id"] == second.id
    body = client.get(V, {"ordering": "created_at", "unit": site["unit"].id}).json()
    assert [r["id"] for r in body["results"]] == [first.id, second.id]
    assert client.get(V, {"expected_from": "garbage"}).status_code == 400
    assert client.get(f"{V}not-a-number/").status_code == 404


def test_the_services_authorize_whoever_calls_them(site):
    """The services check who acts and on which visitor, as the API's role rules and
    scoping do: the admin, a command or another app calling them gets the same refusals."""
    visitor = expected(site)
    other_unit = UnitFactory(property=PropertyFactory(code="elm"), code="ELM-1")
    elsewhere = UserFactory(role=Role.SECURITY, property=other_unit.property)
    neighbour = UserFactory(role=Role.RESIDENT, unit=other_unit)
    refusals = [
        (services.visitor_check_in, site["resident"], "Only security, managers and admins"),
        (services.visitor_check_in, UserFactory(role=Role.MAINTENANCE), "does not work on"),
        (services.visitor_check_in, elsewhere, "of your unit or properties"),
        (services.visitor_cancel, neighbour, "of your unit or properties"),
        (services.visitor_cancel, UserFactory(role=Role.CUSTOMER_SERVICE), "does not work on"),
    ]
    for service, user, message in refusals:
        with pytest.raises(PermissionDenied, match=message):
            service(visitor, by=user)
    with pytest.raises(PermissionDenied, match="Only residents pre-register"):
        services.visitor_expect(
            host=site["security"], unit=site["unit"], name="X", expected_arrival=soon()
        )
    with pytest.raises(PermissionDenied, match="Only security, managers and admins"):
        services.visitor_walk_in(by=site["resident"], unit=site["unit"], name="X")
    visitor.refresh_from_db()
    assert (visitor.status, visitor.version, visitor.history.count()) == ("expected", 1, 1)
    # Security of the property cancels an expected visit too.
    cancelled = services.visitor_cancel(visitor, by=site["security"])
    assert (cancelled.status, cancelled.history.last().changed_by) == (
        "cancelled",
        site["security"],
    )


def test_the_409_names_the_allowed_steps_like_every_workflow(site):
    visitor = services.visitor_check_in(expected(site), by=site["security"])
    with pytest.raises(Conflict) as refused:
        services.visitor_cancel(visitor, by=site["resident"])
    assert refused.value.extra == {"status": "arrived", "allowed_transitions": ["departed"]}
    assert str(refused.value) == (
        "Cannot cancel a visitor who is arrived; allowed actions: check out."
    )
