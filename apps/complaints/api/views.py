from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.complaints import selectors, services
from apps.complaints.api.filters import ComplaintFilter
from apps.complaints.api.serializers import (
    ComplaintCommentCreateSerializer,
    ComplaintCommentSerializer,
    ComplaintCreateSerializer,
    ComplaintDetailSerializer,
    ComplaintRateSerializer,
    ComplaintSerializer,
    ComplaintTransitionSerializer,
)
from apps.complaints.models import Complaint
from apps.core.api import (
    WorkflowTransitionMixin,
    WorkflowViewSet,
    workflow_actions_schema,
    workflow_errors,
    workflow_schema,
)

ERRORS = workflow_errors("complaint")


@workflow_schema(
    "complaint",
    detail=ComplaintDetailSerializer,
    create_request=ComplaintCreateSerializer,
    summaries=(
        "List complaints you may see",
        "A complaint with its comment thread and status history",
        "File a complaint (residents, for their current unit)",
    ),
    list_description=(
        "Residents see the complaints they filed (read only once they moved out: "
        "commenting or rating answers 403); customer service and managers those "
        "of their properties; admins all. Ordering: created_at, updated_at, status, "
        "resolved_at, rating."
    ),
)
@workflow_actions_schema(
    "complaint",
    detail=ComplaintDetailSerializer,
    summary="Move a complaint along its workflow (customer service, managers, admins)",
    description="open → in_review → resolved → closed; an illegal step answers 409 "
    "naming the allowed ones.",
    request=ComplaintTransitionSerializer,
)
class ComplaintViewSet(WorkflowTransitionMixin, WorkflowViewSet):
    """Complaints. Residents file them, comment on their own and rate how they were
    handled; the staff who handle complaints (at their properties) and admins reply and
    move them along."""

    queryset = Complaint.objects.none()
    # Residents and the staff who handle complaints; each action narrows it further
    # (residents file and rate, staff move the status, both comment).
    role_rules = {
        "*": services.complaint_actor_authorize,
        "create": services.complaint_file_authorize,
        "transition": services.complaint_transition_authorize,
        "rate": services.complaint_rate_authorize,
    }
    visible_to = staticmethod(selectors.complaints_visible_to)
    create_service = staticmethod(services.complaint_file)
    # Its role rule refuses the staff-only step (no authorize by target status).
    transition_service = staticmethod(services.complaint_transition)
    transition_subject = "complaint"
    serializer_class = ComplaintSerializer
    serializer_classes = {
        "retrieve": ComplaintDetailSerializer,
        "create": ComplaintCreateSerializer,
        "transition": ComplaintTransitionSerializer,
        "rate": ComplaintRateSerializer,
    }
    detail_prefetch = ("comments__author", "history")
    filterset_class = ComplaintFilter
    ordering_fields = ["created_at", "updated_at", "status", "resolved_at", "rating", "id"]

    @extend_schema(
        methods=["get"],
        summary="A complaint's comment thread, oldest first",
        responses={200: ComplaintCommentSerializer(many=True), 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["post"],
        summary="Reply to a complaint (staff) or comment on your own (resident)",
        request=ComplaintCommentCreateSerializer,
        responses={
            201: ComplaintCommentSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def comments(self, request, pk=None):
        if request.method == "GET":
            complaint = self.get_object()
            comments = selectors.complaint_comments(complaint)
            return Response(ComplaintCommentSerializer(comments, many=True).data)
        serializer = ComplaintCommentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        complaint = self.get_object()
        comment = services.complaint_comment_add(
            complaint=complaint, author=request.user, body=serializer.validated_data["body"]
        )
        return Response(ComplaintCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rate how your complaint was handled (1-5), once it is resolved or closed",
        request=ComplaintRateSerializer,
        responses={
            200: ComplaintDetailSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def rate(self, request, pk=None):
        serializer = ComplaintRateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        complaint = services.complaint_rate(
            complaint=self.get_object(),
            user=request.user,
            rating=serializer.validated_data["rating"],
            comment=serializer.validated_data.get("comment", ""),
        )
        return self.answer(complaint)
