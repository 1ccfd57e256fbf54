from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.core.api import RolePermission
from apps.core.filters import FilterSet, IsoDateTimeFilter
from apps.core.roles import user_is_admin
from apps.properties.selectors import resident_current_unit, user_can_work_in
from apps.visitors.api.serializers import (
    VisitorDetailSerializer,
    VisitorExpectSerializer,
    VisitorSerializer,
    VisitorWalkInSerializer,
)
from apps.visitors.models import Visitor
from apps.visitors.selectors import visitors_visible_to
from apps.visitors.services import (
    visitor_cancel,
    visitor_check_in,
    visitor_check_out,
    visitor_expect,
    visitor_walk_in,
)


def is_resident(user):
    return user.role == Role.RESIDENT and not user_is_admin(user)


def works_on_visitors(user):
    return user_can_work_in(user, "visitors")


def resident_or_visitor_staff(user):
    return is_resident(user) or works_on_visitors(user)


class VisitorFilter(FilterSet):
    expected_from = IsoDateTimeFilter(field_name="expected_arrival", lookup_expr="gte")
    expected_to = IsoDateTimeFilter(field_name="expected_arrival", lookup_expr="lte")
    arrived_from = IsoDateTimeFilter(field_name="arrived_at", lookup_expr="gte")
    arrived_to = IsoDateTimeFilter(field_name="arrived_at", lookup_expr="lte")

    class Meta:
        model = Visitor
        fields = ["property", "unit", "status", "walk_in", "host"]


class VisitorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Visitors. Residents pre-register visitors for their unit and see their unit's
    visitors; security, managers (of their properties) and admins see them, check them in
    and out, and register walk-ins. Other roles are refused."""

    permission_classes = [RolePermission]
    role_rules = {
        "*": resident_or_visitor_staff,
        "create": is_resident,
        "cancel": resident_or_visitor_staff,
        "walk_in": works_on_visitors,
        "check_in": works_on_visitors,
        "check_out": works_on_visitors,
    }
    filterset_class = VisitorFilter
    ordering_fields = ["expected_arrival", "arrived_at", "departed_at", "created_at", "status"]
    ordering = ["-expected_arrival"]

    def get_queryset(self):
        return visitors_visible_to(self.request.user).order_by("-expected_arrival", "-id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return VisitorDetailSerializer
        if self.action == "create":
            return VisitorExpectSerializer
        if self.action == "walk_in":
            return VisitorWalkInSerializer
        return VisitorSerializer

    def _answer(self, visitor, code=status.HTTP_200_OK):
        return Response(VisitorSerializer(visitor).data, status=code)

    @extend_schema(request=VisitorExpectSerializer, responses={201: VisitorSerializer})
    def create(self, request):
        serializer = VisitorExpectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unit = resident_current_unit(request.user)
        if unit is None:
            raise exceptions.ValidationError(
                {"unit": ["You have no current residency, so you cannot register visitors."]}
            )
        visitor = visitor_expect(host=request.user, unit=unit, **serializer.validated_data)
        return self._answer(visitor, status.HTTP_201_CREATED)

    @extend_schema(request=VisitorWalkInSerializer, responses={201: VisitorSerializer})
    @action(detail=False, methods=["post"], url_path="walk-in")
    def walk_in(self, request):
        serializer = VisitorWalkInSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        visitor = visitor_walk_in(by=request.user, **serializer.validated_data)
        return self._answer(visitor, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: VisitorSerializer})
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        return self._answer(visitor_check_in(self.get_object(), by=request.user))

    @extend_schema(request=None, responses={200: VisitorSerializer})
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request, pk=None):
        return self._answer(visitor_check_out(self.get_object(), by=request.user))

    @extend_schema(request=None, responses={200: VisitorSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._answer(visitor_cancel(self.get_object(), by=request.user))
