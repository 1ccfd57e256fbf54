from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import WorkflowViewSet, workflow_errors, workflow_schema
from apps.repairs import selectors, services
from apps.repairs.api.filters import RepairRequestFilter
from apps.repairs.api.serializers import (
    RepairRequestCreateSerializer,
    RepairRequestDetailSerializer,
    RepairRequestSerializer,
    RepairStatusChangeSerializer,
    RepairTransitionSerializer,
)
from apps.repairs.models import RepairRequest, RepairStatusChange

ERRORS = workflow_errors("repair")


@workflow_schema(
    "repair",
    detail=RepairRequestDetailSerializer,
    create_request=RepairRequestCreateSerializer,
    summaries=(
        "List repair requests you may see",
        "A repair request with its status history",
        "Request a repair (residents, for their current unit)",
    ),
    list_description=(
        "Residents see their current unit's requests and the ones they filed (read only "
        "once they moved out: acting on them answers 403); maintenance staff and managers "
        "those of their properties; admins all. Ordering: created_at, updated_at, "
        "urgency, status, resolved_at (prefix - for descending)."
    ),
)
class RepairRequestViewSet(WorkflowViewSet):
    queryset = RepairRequest.objects.none()
    # Residents and the staff roles that work on repairs; only residents submit.
    role_rules = {"*": services.repair_actor_authorize, "create": services.repair_submit_authorize}
    visible_to = staticmethod(selectors.repair_requests_visible_to)
    create_service = staticmethod(services.repair_request_submit)
    serializer_class = RepairRequestSerializer
    serializer_classes = {
        "retrieve": RepairRequestDetailSerializer,
        "create": RepairRequestCreateSerializer,
        "transition": RepairTransitionSerializer,
        "history": RepairStatusChangeSerializer,
    }
    # One query for the history and who made each change, not two.
    detail_prefetch = (
        Prefetch("history", queryset=RepairStatusChange.objects.select_related("changed_by")),
    )
    filterset_class = RepairRequestFilter
    ordering_fields = ["created_at", "updated_at", "urgency", "status", "resolved_at", "id"]

    @extend_schema(
        summary="Move a repair along its workflow",
        description=(
            "submitted → acknowledged → scheduled → in_progress → resolved → closed. "
            "The resident who submitted it may cancel it before work starts (from submitted, "
            "acknowledged or scheduled), close it once resolved, or reopen it within 14 days "
            "of resolution (reopened → acknowledged/scheduled by staff). Maintenance staff "
            "of the property, managers and admins do the other steps. An illegal step "
            "answers 409 naming the allowed ones."
        ),
        request=RepairTransitionSerializer,
        responses={
            200: RepairRequestDetailSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        return self.step(
            request,
            services.repair_transition,
            "repair",
            authorize=services.repair_transition_authorize,
        )

    @extend_schema(
        summary="A repair's status history, oldest first",
        responses={200: RepairStatusChangeSerializer(many=True), 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        repair = self.get_object()
        changes = selectors.repair_history(repair)
        return Response(RepairStatusChangeSerializer(changes, many=True).data)
