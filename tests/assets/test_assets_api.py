"""Assets: staff of the property manage them; every change publishes its event."""

import pytest

from apps.assets.models import Asset
from apps.messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db


def create(client, property_id, **extra):
    return client.post(
        "/api/v1/assets/",
        {
            "property": property_id,
            "name": "Lift A",
            "category": "lift",
            "condition": "good",
            "cost": "25000.00",
            **extra,
        },
        format="json",
    )


def test_create_update_retire_publish_versions(api, world):
    client = api(world.user("maintenance"))
    created = create(client, world.a.property.id)
    assert created.status_code == 201, created.content
    asset_id = created.json()["id"]
    updated = client.patch(f"/api/v1/assets/{asset_id}/", {"condition": "poor"}, format="json")
    assert updated.status_code == 200, updated.content
    assert client.post(f"/api/v1/assets/{asset_id}/retire/").status_code == 200
    again = client.post(f"/api/v1/assets/{asset_id}/retire/")
    assert again.status_code == 409
    rows = OutboxMessage.objects.order_by("created_at")
    assert [r.event for r in rows] == ["asset.created", "asset.updated", "asset.retired"]
    payloads = [r.payload[0]["data"] for r in rows]
    assert [p["version"] for p in payloads] == [1, 2, 3]
    assert payloads[1]["condition"] == "poor" and payloads[0]["cost"] == "25000.00"
    assert Asset.objects.get(id=asset_id).status == "retired"


def test_bad_asset_is_a_400_and_other_property_is_refused(api, world):
    client = api(world.user("maintenance"))
    assert create(client, world.a.property.id, cost="-1").status_code == 400
    assert create(client, world.a.property.id, category="spaceship").status_code == 400
    assert create(client, world.b.property.id).status_code == 400
    assert not Asset.objects.exists() and not OutboxMessage.objects.exists()
