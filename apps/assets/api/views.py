import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.assets.api.serializers import AssetDetailSerializer, AssetSerializer
from apps.assets.models import Asset
from apps.assets.selectors import assets_visible_to
from apps.assets.services import asset_create, asset_retire, asset_update
from apps.core.api import RolePermission
from apps.core.filters import FilterSet, IsoDateTimeFilter
from apps.properties.selectors import user_can_work_in


def works_on_assets(user):
    return user_can_work_in(user, "assets")


class AssetFilter(FilterSet):
    purchase_date_from = django_filters.DateFilter(field_name="purchase_date", lookup_expr="gte")
    purchase_date_to = django_filters.DateFilter(field_name="purchase_date", lookup_expr="lte")
    warranty_end_before = django_filters.DateFilter(field_name="warranty_end", lookup_expr="lte")
    created_from = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_to = IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Asset
        fields = ["property", "status", "category", "condition"]


class AssetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Building assets. Maintenance staff, managers (of their properties) and admins read
    and manage them; other roles are refused."""

    permission_classes = [RolePermission]
    role_rules = {"*": works_on_assets}
    filterset_class = AssetFilter
    ordering_fields = [
        "name",
        "category",
        "condition",
        "status",
        "cost",
        "purchase_date",
        "warranty_end",
        "created_at",
        "updated_at",
    ]
    ordering = ["name"]

    def get_queryset(self):
        return assets_visible_to(self.request.user).order_by("name", "id")

    def get_serializer_class(self):
        return AssetDetailSerializer if self.action == "retrieve" else AssetSerializer

    def create(self, request, *args, **kwargs):
        serializer = AssetSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        asset = asset_create(by=request.user, **data)
        return Response(AssetSerializer(asset).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("property", None)
        expected_version = data.pop("version", None)
        serializer.instance = asset_update(
            serializer.instance, by=self.request.user, expected_version=expected_version, **data
        )

    @extend_schema(request=None, responses={200: AssetSerializer})
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        asset = asset_retire(self.get_object(), by=request.user)
        return Response(AssetSerializer(asset, context=self.get_serializer_context()).data)
