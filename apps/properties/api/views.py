from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from apps.core.api import RolePermission
from apps.core.roles import user_is_manager_or_admin
from apps.properties.api.serializers import PropertySerializer, UnitSerializer
from apps.properties.selectors import properties_visible_to, units_visible_to
from apps.properties.services import property_create, property_update, unit_create, unit_update

MANAGE = dict.fromkeys(("create", "update", "partial_update"), user_is_manager_or_admin)


class _ReadCreateUpdateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [RolePermission]
    role_rules = MANAGE


class PropertyViewSet(_ReadCreateUpdateViewSet):
    """Properties: residents read their own, staff their assigned ones; managers (of the
    property) and admins create and update them."""

    serializer_class = PropertySerializer
    filterset_fields = {"code": ["exact"], "created_at": ["gte", "lte"]}
    ordering_fields = ["name", "code", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return properties_visible_to(self.request.user).order_by("name", "id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        prop = property_create(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(prop).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = property_update(
            serializer.instance, by=self.request.user, **serializer.validated_data
        )


class UnitViewSet(_ReadCreateUpdateViewSet):
    """Units: residents read their own, staff those of their properties; managers and
    admins create and update them."""

    serializer_class = UnitSerializer
    filterset_fields = {"property": ["exact"], "code": ["exact"], "floor": ["exact"]}
    ordering_fields = ["code", "floor", "created_at"]
    ordering = ["code"]

    def get_queryset(self):
        return units_visible_to(self.request.user).select_related("property").order_by("code")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unit = unit_create(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(unit).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("property", None)
        serializer.instance = unit_update(serializer.instance, by=self.request.user, **data)
