"""Events the assets app publishes (the only place it calls publish())."""

from apps.messaging.publisher import publish


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
    publish("asset.created", asset_payload(asset))


def asset_updated(asset):
    publish("asset.updated", asset_payload(asset))


def asset_retired(asset):
    publish("asset.retired", asset_payload(asset))
