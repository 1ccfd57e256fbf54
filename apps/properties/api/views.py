from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from apps.core.api import (
    RolePermission,
    WorkflowHistoryMixin,
    WorkflowTransitionMixin,
    WorkflowViewSet,
    workflow_actions_schema,
    workflow_errors,
)
from apps.core.roles import user_is_manager_or_admin
from apps.properties import services
from apps.properties.api.serializers import (
    MoveOutRequestCreateSerializer,
    MoveOutRequestDetailSerializer,
    MoveOutRequestSerializer,
    MoveOutStatusChangeSerializer,
    MoveOutTransitionSerializer,
    PropertySerializer,
    UnitSerializer,
)
from apps.properties.models import MoveOutRequest, MoveOutStatusChange
from apps.properties.selectors import (
    move_out_history,
    move_out_requests_visible_to,
    properties_visible_to,
    units_visible_to,
)
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


ERRORS = workflow_errors("move-out request")


@extend_schema_view(
    list=extend_schema(
        summary="List move-out requests you may see",
        description=(
            "Residents see their own requests; managers those of the properties they "
            "manage; admins all. Ordering: created_at, end_date, status (prefix - for "
            "descending)."
        ),
    ),
    retrieve=extend_schema(
        summary="A move-out request with its status history",
        responses={200: MoveOutRequestDetailSerializer, 404: ERRORS[404]},
    ),
    create=extend_schema(
        summary="Ask to move out (residents, of a home they live in now)",
        description=(
            "The requested last day takes effect only once a manager of the property "
            "approves it. A past day, or one before the residency starts, answers 400; a "
            "request already waiting for the residency answers 409 naming it."
        ),
        request=MoveOutRequestCreateSerializer,
        responses={
            201: MoveOutRequestDetailSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            409: ERRORS[409],
        },
    ),
)
@workflow_actions_schema(
    "move-out request",
    detail=MoveOutRequestDetailSerializer,
    summary="Decide or withdraw a move-out request",
    description=(
        "requested → approved or rejected (managers of the property, admins; approving "
        "makes the requested day the residency's last, and the move job ends it after "
        "that day), requested → withdrawn (the resident who asked). An illegal step "
        "answers 409 naming the allowed ones; approving a day already past too."
    ),
    request=MoveOutTransitionSerializer,
    history=MoveOutStatusChangeSerializer,
)
class MoveOutRequestViewSet(WorkflowTransitionMixin, WorkflowHistoryMixin, WorkflowViewSet):
    """Move-out requests: residents ask for a last day, managers of the property (and
    admins) approve or reject it; only an approved day becomes the residency's end."""

    queryset = MoveOutRequest.objects.none()
    role_rules = {
        "*": services.move_out_actor_authorize,
        "create": services.move_out_request_authorize,
    }
    visible_to = staticmethod(move_out_requests_visible_to)
    transition_service = staticmethod(services.move_out_transition)
    transition_subject = "move_out"
    transition_authorize = staticmethod(services.move_out_transition_authorize)
    history_selector = staticmethod(move_out_history)
    serializer_class = MoveOutRequestSerializer
    serializer_classes = {
        "retrieve": MoveOutRequestDetailSerializer,
        "create": MoveOutRequestCreateSerializer,
        "transition": MoveOutTransitionSerializer,
        "history": MoveOutStatusChangeSerializer,
    }
    detail_prefetch = (
        Prefetch("history", queryset=MoveOutStatusChange.objects.select_related("changed_by")),
    )
    filterset_fields = ["property", "unit", "status"]
    ordering_fields = ["created_at", "end_date", "status", "id"]

    @staticmethod
    def create_service(*, resident, **data):
        return services.move_out_request(resident=resident, **data)
