"""Writes of the assets app; each change bumps the version, records history and
publishes its event in the same transaction."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction

from apps.assets import events
from apps.assets.models import Asset, AssetEvent
from apps.core.errors import Conflict
from apps.properties.selectors import properties_for_area

EDITABLE_FIELDS = (
    "name",
    "category",
    "location",
    "serial",
    "purchase_date",
    "cost",
    "condition",
    "warranty_end",
)


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def asset_create(*, by, property, name, category, **fields) -> Asset:
    """A new asset at `property`, where `by` manages assets (maintenance, its managers;
    admins anywhere)."""
    if not properties_for_area(by, "assets").filter(pk=property.pk).exists():
        raise PermissionDenied("You do not work on assets at this property.")
    with transaction.atomic():
        asset = Asset(property=property, name=name, category=category)
        for field in EDITABLE_FIELDS:
            if field in fields:
                setattr(asset, field, fields[field])
        asset.full_clean()
        asset.save()
        AssetEvent.objects.create(
            asset=asset, action=AssetEvent.Action.CREATED, version=asset.version, by=by
        )
        events.asset_created(asset)
    return asset


def _locked(asset):
    return Asset.objects.select_for_update().get(pk=asset.pk)


def asset_update(asset: Asset, *, by, expected_version=None, **changes) -> Asset:
    """Change an active asset's fields. `expected_version`, when given, must match."""
    with transaction.atomic():
        asset = _locked(asset)
        if asset.status == Asset.Status.RETIRED:
            raise Conflict("This asset is retired and cannot be changed; allowed actions: none.")
        if expected_version is not None and expected_version != asset.version:
            raise Conflict(
                f"The asset changed meanwhile (version {asset.version}, not "
                f"{expected_version}); reload it and try again."
            )
        changed = {}
        for field in EDITABLE_FIELDS:
            if field in changes and getattr(asset, field) != changes[field]:
                changed[field] = [
                    _jsonable(getattr(asset, field)),
                    _jsonable(changes[field]),
                ]
                setattr(asset, field, changes[field])
        if not changed:
            return asset
        asset.version += 1
        asset.full_clean()
        asset.save()
        AssetEvent.objects.create(
            asset=asset,
            action=AssetEvent.Action.UPDATED,
            version=asset.version,
            changes=changed,
            by=by,
        )
        events.asset_updated(asset)
    return asset


def asset_retire(asset: Asset, *, by) -> Asset:
    with transaction.atomic():
        asset = _locked(asset)
        if asset.status == Asset.Status.RETIRED:
            raise Conflict("This asset is already retired; allowed actions: none.")
        asset.status = Asset.Status.RETIRED
        asset.version += 1
        asset.save()
        AssetEvent.objects.create(
            asset=asset, action=AssetEvent.Action.RETIRED, version=asset.version, by=by
        )
        events.asset_retired(asset)
    return asset
