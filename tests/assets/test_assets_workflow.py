"""Assets: exact event payloads, history, versions, 409s, rollback, filters."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from apps.accounts.models import Role
from apps.assets import services
from apps.assets.models import Asset, AssetEvent
from apps.messaging.models import OutboxMessage
from tests.factories import PropertyFactory, UserFactory

pytestmark = pytest.mark.django_db

A = "/api/v1/assets/"


@pytest.fixture
def prop():
    return PropertyFactory(code="oak")


@pytest.fixture
def tech(prop):
    return UserFactory(role=Role.MAINTENANCE, property=prop)


def new_asset(prop, by, **extra):
    fields = {"name": "Boiler 1", "category": "boiler", "cost": Decimal("1200.50"), **extra}
    return services.asset_create(by=by, property=prop, **fields)


def test_event_payload_is_exact_and_in_the_asset_queue(prop, tech):
    asset = new_asset(prop, tech, condition="fair")
    [row] = OutboxMessage.objects.all()
    assert (row.event, row.task_name, row.queue) == (
        "asset.created",
        "reporting.record_asset_event",
        "asset_management",
    )
    assert row.payload[0]["data"] == {
        "asset_id": asset.id,
        "property_id": prop.id,
        "category": "boiler",
        "condition": "fair",
        "cost": "1200.50",
        "status": "active",
        "warranty_end": None,
        "version": 1,
    }


def test_assets_are_created_only_where_their_creator_works_on_assets(prop, tech):
    """The service refuses what a forged admin form or API call would slip past its field
    validation: another property, or a role that does not work on assets."""
    with pytest.raises(PermissionDenied):
        new_asset(PropertyFactory(code="elm"), tech)
    with pytest.raises(PermissionDenied):
        new_asset(prop, UserFactory(role=Role.SECURITY, property=prop))
    assert not Asset.objects.exists() and not OutboxMessage.objects.exists()


def test_history_records_each_change_with_its_version(api, prop, tech):
    asset = new_asset(prop, tech)
    services.asset_update(asset, by=tech, condition="poor", location="Basement")
    services.asset_update(asset, by=tech, condition="poor")  # no change: no version, no event
    services.asset_retire(asset, by=tech)
    history = list(AssetEvent.objects.filter(asset=asset).values_list("action", "version"))
    assert history == [("created", 1), ("updated", 2), ("retired", 3)]
    changes = AssetEvent.objects.get(asset=asset, version=2).changes
    assert changes == {"condition": ["good", "poor"], "location": ["", "Basement"]}
    assert OutboxMessage.objects.count() == 3
    detail = api(tech).get(f"{A}{asset.id}/").json()
    assert [e["version"] for e in detail["events"]] == [1, 2, 3]


def test_stale_version_and_changes_to_retired_assets_are_409(api, prop, tech):
    client = api(tech)
    asset = new_asset(prop, tech)
    services.asset_update(asset, by=tech, condition="fair")  # now version 2
    stale = client.patch(f"{A}{asset.id}/", {"condition": "poor", "version": 1}, format="json")
    assert stale.status_code == 409 and "version" in stale.json()["detail"]
    fresh = client.patch(f"{A}{asset.id}/", {"condition": "poor", "version": 2}, format="json")
    assert fresh.status_code == 200 and fresh.json()["version"] == 3
    assert client.post(f"{A}{asset.id}/retire/").status_code == 200
    edit = client.patch(f"{A}{asset.id}/", {"condition": "good"}, format="json")
    assert edit.status_code == 409 and "allowed actions" in edit.json()["detail"]
    again = client.post(f"{A}{asset.id}/retire/")
    assert again.status_code == 409 and "allowed actions" in again.json()["detail"]
    assert OutboxMessage.objects.filter(event="asset.retired").count() == 1


def test_validation_400s(api, prop, tech):
    client = api(tech)
    bad = client.post(
        A,
        {
            "property": prop.id,
            "name": "Lift",
            "category": "lift",
            "purchase_date": "2026-05-01",
            "warranty_end": "2026-01-01",
            "condition": "shiny",
        },
        format="json",
    )
    assert bad.status_code == 400
    assert {"condition"} <= set(bad.json())
    bad = client.post(
        A,
        {
            "property": prop.id,
            "name": "Lift",
            "category": "lift",
            "purchase_date": "2026-05-01",
            "warranty_end": "2026-01-01",
        },
        format="json",
    )
    assert bad.status_code == 400 and "warranty_end" in bad.json()
    assert client.post(A, {}, format="json").json().keys() >= {"property", "name", "category"}
    asset = new_asset(prop, tech)
    moved = client.patch(f"{A}{asset.id}/", {"property": PropertyFactory().id}, format="json")
    assert moved.status_code == 400
    assert client.patch(f"{A}{asset.id}/", {"cost": "abc"}, format="json").status_code == 400


def test_rolled_back_change_publishes_nothing(prop, tech):
    asset = new_asset(prop, tech)
    OutboxMessage.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.asset_retire(asset, by=tech)
        raise RuntimeError("boom")
    asset.refresh_from_db()
    assert asset.status == "active" and asset.version == 1
    assert not OutboxMessage.objects.exists()


def test_filters_and_ordering(api, prop, tech):
    new_asset(prop, tech, name="B lift", category="lift", cost=Decimal("10"))
    new_asset(prop, tech, name="A door", category="door", cost=Decimal("30"))
    retired = new_asset(prop, tech, name="C door", category="door")
    services.asset_retire(retired, by=tech)
    client = api(tech)
    body = client.get(A, {"category": "door", "status": "active"}).json()
    assert body["count"] == 1 and body["results"][0]["name"] == "A door"
    names = [
        r["name"]
        for r in client.get(A, {"ordering": "-cost", "status": "active"}).json()["results"]
    ]
    assert names == ["A door", "B lift"]
    assert client.get(A, {"status": "melted"}).status_code == 400


def test_security_and_residents_may_never_touch_assets(api, prop):
    asset = new_asset(prop, UserFactory(role=Role.MANAGER, property=prop))
    for role in (Role.SECURITY, Role.CUSTOMER_SERVICE, Role.RESIDENT):
        client = api(UserFactory(role=role, property=prop))
        assert client.get(A).status_code == 403
        assert client.post(f"{A}{asset.id}/retire/").status_code == 403
    assert Asset.objects.get(id=asset.id).status == "active"


def test_admin_edit_goes_through_the_service(prop, tech):
    from django.contrib.auth.models import Permission
    from django.test import Client

    asset = new_asset(prop, tech)
    tech.is_staff = True
    tech.save()
    tech.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_asset", "change_asset"])
    )
    client = Client()
    client.force_login(tech)
    form = {
        "property": prop.id,
        "name": "Boiler 1",
        "category": "boiler",
        "location": "",
        "serial": "",
        "purchase_date": "",
        "cost": "1200.50",
        "condition": "broken",
        "warranty_end": "",
        "events-TOTAL_FORMS": "1",
        "events-INITIAL_FORMS": "1",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    response = client.post(f"/admin/assets/asset/{asset.id}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    asset.refresh_from_db()
    assert (asset.condition, asset.version) == ("broken", 2)
    assert OutboxMessage.objects.filter(event="asset.updated").count() == 1
