from django.db.models import Prefetch
from rest_framework import status
from rest_framework.response import Response

from apps.core.api import (
    WorkflowHistoryMixin,
    WorkflowTransitionMixin,
    WorkflowViewSet,
    workflow_actions_schema,
    workflow_schema,
)
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
@workflow_actions_schema(
    "repair",
    detail=RepairRequestDetailSerializer,
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
    history=RepairStatusChangeSerializer,
)
class RepairRequestViewSet(WorkflowTransitionMixin, WorkflowHistoryMixin, WorkflowViewSet):
    """Repair requests. Residents submit them for a unit they live in and follow them;
    the staff who work on repairs (at their properties) and admins move them along."""

    queryset = RepairRequest.objects.none()
    # Residents and the staff roles that work on repairs; only residents submit.
    role_rules = {"*": services.repair_actor_authorize, "create": services.repair_submit_authorize}
    visible_to = staticmethod(selectors.repair_requests_visible_to)
    create_service = staticmethod(services.repair_request_submit)
    transition_service = staticmethod(services.repair_transition)
    transition_subject = "repair"
    transition_authorize = staticmethod(services.repair_transition_authorize)
    history_selector = staticmethod(selectors.repair_history)
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

    def create(self, request, *args, **kwargs):
        # Answered from the repair in hand: the resident just filed it for a unit they
        # live in, so it is visible to them (re-reading it through `visible_to` cost three
        # queries and a fifth of the request; docs/BENCHMARKS.md "Where a repair POST
        # spends its time"), and Workflow.start holds the history row it wrote. A comment,
        # not a docstring: that would be the operation's description for API readers.
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        repair = self.create_service(resident=request.user, **serializer.validated_data)
        answer = RepairRequestDetailSerializer(repair, context=self.get_serializer_context())
        return Response(answer.data, status=status.HTTP_201_CREATED)
