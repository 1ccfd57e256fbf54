"""Events the assets app publishes (the only place it calls publish())."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from apps.messaging.contracts import Event, event_named
from apps.messaging.publisher import publish

ASSET_CREATED = "asset.created"
ASSET_UPDATED = "asset.updated"
ASSET_RETIRED = "asset.retired"


@dataclass(frozen=True)
class AssetEvent(Event):
    asset_id: int
    property_id: int
    category: str
    condition: str
    cost: Decimal
    status: str
    warranty_end: date | None
    version: int


AssetCreated = event_named("AssetCreated", AssetEvent, ASSET_CREATED)
AssetUpdated = event_named("AssetUpdated", AssetEvent, ASSET_UPDATED)
AssetRetired = event_named("AssetRetired", AssetEvent, ASSET_RETIRED)


def _fields(asset):
    return {
        "asset_id": asset.id,
        "property_id": asset.property_id,
        "category": asset.category,
        "condition": asset.condition,
        "cost": Decimal(str(asset.cost)),
        "status": asset.status,
        "warranty_end": asset.warranty_end,
        "version": asset.version,
    }


def asset_created(asset):
    publish(AssetCreated(**_fields(asset)))


def asset_updated(asset):
    publish(AssetUpdated(**_fields(asset)))


def asset_retired(asset):
    publish(AssetRetired(**_fields(asset)))
