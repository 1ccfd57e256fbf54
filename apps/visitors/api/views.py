from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import WorkflowViewSet
from apps.core.filters import FilterSet, IsoDateTimeFilter
from apps.visitors import selectors, services
from apps.visitors.api.serializers import (
    VisitorDetailSerializer,
    VisitorExpectSerializer,
    VisitorSerializer,
    VisitorWalkInSerializer,
)
from apps.visitors.models import Visitor


class VisitorFilter(FilterSet):
    expected_from = IsoDateTimeFilter(field_name="expected_arrival", lookup_expr="gte")
    expected_to = IsoDateTimeFilter(field_name="expected_arrival", lookup_expr="lte")
    arrived_from = IsoDateTimeFilter(field_name="arrived_at", lookup_expr="gte")
    arrived_to = IsoDateTimeFilter(field_name="arrived_at", lookup_expr="lte")

    class Meta:
        model = Visitor
        fields = ["property", "unit", "status", "walk_in", "host"]


STEP_SCHEMA = extend_schema(request=None, responses={200: VisitorSerializer})


@extend_schema_view(
    create=extend_schema(request=VisitorExpectSerializer, responses={201: VisitorSerializer})
)
class VisitorViewSet(WorkflowViewSet):
    """Visitors. Residents pre-register visitors for their unit and see their unit's
    visitors; security, managers (of their properties) and admins see them, check them in
    and out, and register walk-ins. Other roles are refused."""

    queryset = Visitor.objects.none()
    role_rules = {
        "*": services.visitor_actor_authorize,
        "create": services.visitor_expect_authorize,
        "walk_in": services.visitor_desk_authorize,
        "check_in": services.visitor_desk_authorize,
        "check_out": services.visitor_desk_authorize,
    }
    visible_to = staticmethod(selectors.visitors_visible_to)
    serializer_class = VisitorSerializer
    serializer_classes = {
        "retrieve": VisitorDetailSerializer,
        "create": VisitorExpectSerializer,
        "walk_in": VisitorWalkInSerializer,
    }
    detail_prefetch = ("history",)
    filterset_class = VisitorFilter
    ordering_fields = ["expected_arrival", "arrived_at", "departed_at", "created_at", "status"]
    ordering = ["-expected_arrival"]

    @staticmethod
    def create_service(*, resident, **data):
        return services.visitor_expect(host=resident, **data)

    def answer(self, obj, code=status.HTTP_200_OK):
        """A registration or a step answers the visitor without its history, as listed;
        only retrieve shows the history (`events`)."""
        if self.action == "retrieve":
            return super().answer(obj, code)
        return Response(VisitorSerializer(obj).data, status=code)

    @extend_schema(request=VisitorWalkInSerializer, responses={201: VisitorSerializer})
    @action(detail=False, methods=["post"], url_path="walk-in")
    def walk_in(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        visitor = services.visitor_walk_in(by=request.user, **serializer.validated_data)
        return self.answer(visitor, status.HTTP_201_CREATED)

    @STEP_SCHEMA
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        return self.answer(services.visitor_check_in(self.get_object(), by=request.user))

    @STEP_SCHEMA
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request, pk=None):
        return self.answer(services.visitor_check_out(self.get_object(), by=request.user))

    @STEP_SCHEMA
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.answer(services.visitor_cancel(self.get_object(), by=request.user))
