"""Reads of the reporting app."""

from django.db.models import Count, Sum

from apps.reporting.models import AssetSnapshot, DailyPropertyStat
from apps.reporting.services import ASSET_RETIRED


def daily_stats(*, property_ids=None, date_from=None, date_to=None):
    """Daily counters, optionally limited to properties (None: all) and a date range."""
    queryset = DailyPropertyStat.objects.all()
    if property_ids is not None:
        queryset = queryset.filter(property_id__in=property_ids)
    if date_from:
        queryset = queryset.filter(day__gte=date_from)
    if date_to:
        queryset = queryset.filter(day__lte=date_to)
    return queryset.order_by("-day", "property_id", "metric", "category", "urgency")


def asset_report(*, property_ids=None):
    """Active (not retired) assets per property, category and condition: count and cost."""
    queryset = AssetSnapshot.objects.exclude(status=ASSET_RETIRED)
    if property_ids is not None:
        queryset = queryset.filter(property_id__in=property_ids)
    return (
        queryset.values("property_id", "category", "condition")
        .annotate(assets=Count("id"), total_cost=Sum("cost"))
        .order_by("property_id", "category", "condition")
    )
