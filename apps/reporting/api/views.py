from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions

from apps.accounts.permissions import is_manager_or_admin
from apps.properties.selectors import staff_property_ids, user_is_admin
from apps.reporting.api.serializers import (
    AssetReportRowSerializer,
    DailyQuerySerializer,
    DailyStatSerializer,
)
from apps.reporting.selectors import asset_report, daily_stats


class IsManagerOrAdmin(permissions.BasePermission):
    message = "Only managers and administrators may see reports."

    def has_permission(self, request, view):
        return is_manager_or_admin(request.user)


def _property_ids(request, only=None):
    """None (all) for admins; a manager's assigned properties; narrowed to `only`."""
    ids = None if user_is_admin(request.user) else staff_property_ids(request.user)
    if only is not None:
        ids = [only] if ids is None or only in ids else []
    return ids


PROPERTY = OpenApiParameter("property", int, description="one property id")


class DailyReportView(generics.ListAPIView):
    """Daily counters per property: repairs opened/resolved/cancelled (by category and
    urgency), complaints filed/resolved, visitor arrivals."""

    serializer_class = DailyStatSerializer
    permission_classes = [IsManagerOrAdmin]
    filter_backends = []

    @extend_schema(
        parameters=[
            PROPERTY,
            OpenApiParameter("date_from", str, description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("date_to", str, description="YYYY-MM-DD, inclusive"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return daily_stats(property_ids=[])
        query = DailyQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        return daily_stats(
            property_ids=_property_ids(self.request, q.get("property")),
            date_from=q.get("date_from"),
            date_to=q.get("date_to"),
        )


class AssetReportView(generics.ListAPIView):
    """Active assets per property, category and condition, with their total cost."""

    serializer_class = AssetReportRowSerializer
    permission_classes = [IsManagerOrAdmin]
    filter_backends = []
    pagination_class = None

    @extend_schema(parameters=[PROPERTY])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return asset_report(property_ids=[])
        query = DailyQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return asset_report(
            property_ids=_property_ids(self.request, query.validated_data.get("property"))
        )
