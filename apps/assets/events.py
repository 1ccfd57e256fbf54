"""Events the assets app publishes (the only place it calls publish())."""

from apps.messaging.publisher import publish

ASSET_CREATED = "asset.created"
ASSET_UPDATED = "asset.updated"
ASSET_RETIRED = "asset.retired"


def asset_payload(asset):
    return {
        "asset_id": asset.id,
        "property_id": asset.property_id,
        "category": asset.category,
        "condition": asset.condition,
        "cost": str(asset.cost),
        "status": asset.status,
        "warranty_end": asset.warranty_end,
        "version": asset.version,
    }


def asset_created(asset):
    publish(ASSET_CREATED, asset_payload(asset))


def asset_updated(asset):
    publish(ASSET_UPDATED, asset_payload(asset))


def asset_retired(asset):
    publish(ASSET_RETIRED, asset_payload(asset))
