from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.announcements import selectors, services
from apps.announcements.api.serializers import (
    AnnouncementCreateSerializer,
    AnnouncementDetailSerializer,
    AnnouncementSerializer,
    FailureSerializer,
    PreviewSerializer,
    ReceivedAnnouncementSerializer,
    ScheduleSerializer,
)
from apps.announcements.models import Announcement
from apps.core.api import RolePermission, workflow_errors

ERRORS = workflow_errors("announcement")
MANAGE = services.announcement_manage_authorize


def _as_seen(name, managers):
    """Managers and admins get `managers`; anyone else what was sent to them."""
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[managers, ReceivedAnnouncementSerializer],
        resource_type_field_name=None,
    )


def _step_schema(summary, description, request=None):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={
            200: AnnouncementDetailSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )


@extend_schema_view(
    list=extend_schema(
        summary="List announcements",
        description=(
            "Managers see the announcements of their properties and admins all, in every "
            "status (newest first). Anyone else sees what was sent to them, newest first."
        ),
        responses={200: _as_seen("AnnouncementListItem", AnnouncementSerializer)},
    ),
    retrieve=extend_schema(
        summary="An announcement: with its counts and history for its managers",
        responses={
            200: _as_seen("AnnouncementAsSeen", AnnouncementDetailSerializer),
            404: ERRORS[404],
        },
    ),
    create=extend_schema(
        summary="Write a draft announcement (managers, admins)",
        request=AnnouncementCreateSerializer,
        responses={201: AnnouncementDetailSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
)
class AnnouncementViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Announcements. Managers (for their properties) and admins write, preview, schedule,
    send and cancel them; recipients read theirs and mark them read."""

    queryset = Announcement.objects.none()
    permission_classes = [RolePermission]
    role_rules = dict.fromkeys(
        ("create", "preview", "schedule", "send", "cancel", "failures"), MANAGE
    )

    @property
    def manages(self):
        return selectors.user_manages_announcements(self.request.user)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.announcements_visible_to(self.request.user).prefetch_related(
            "properties", "units"
        )

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False) or self.manages:
            return {"create": AnnouncementCreateSerializer}.get(
                self.action,
                AnnouncementDetailSerializer
                if self.action == "retrieve"
                else AnnouncementSerializer,
            )
        return ReceivedAnnouncementSerializer

    def answer(self, announcement, code=status.HTTP_200_OK):
        announcement = self.get_queryset().prefetch_related("history").get(pk=announcement.pk)
        data = AnnouncementDetailSerializer(announcement, context=self.get_serializer_context())
        return Response(data.data, status=code)

    def retrieve(self, request, *args, **kwargs):
        announcement = self.get_object()
        if self.manages:
            return self.answer(announcement)
        return Response(self.get_serializer(announcement).data)

    def create(self, request, *args, **kwargs):
        serializer = AnnouncementCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        channels = data.pop("channels")
        announcement = services.announcement_create(
            by=request.user, by_email="email" in channels, by_sms="sms" in channels, **data
        )
        return self.answer(announcement, status.HTTP_201_CREATED)

    @extend_schema(
        summary="How many would receive it now",
        description="Per property: a manager sees the properties they manage.",
        responses={200: PreviewSerializer, 403: ERRORS[403], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        return Response(selectors.announcement_preview(self.get_object(), request.user))

    @_step_schema(
        "Schedule it",
        "draft → scheduled: sent at send_at (in the future) through the outbox's delayed "
        "delivery. An illegal step answers 409 naming the allowed ones.",
        ScheduleSerializer,
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        serializer = ScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        announcement = services.announcement_schedule(
            self.get_object(), by=request.user, send_at=serializer.validated_data.get("send_at")
        )
        return self.answer(announcement)

    @_step_schema("Send it now", "draft or scheduled → sending; sent once every batch is done.")
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        return self.answer(services.announcement_send_now(self.get_object(), by=request.user))

    @_step_schema(
        "Cancel it",
        "Before its time nothing is sent; while sending, the batches not yet started send nothing.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.answer(services.announcement_cancel(self.get_object(), by=request.user))

    @extend_schema(
        summary="Mark it read (recipients)",
        request=None,
        responses={
            204: OpenApiResponse(description="Read."),
            404: ERRORS[404],
            409: OpenApiResponse(description="Not sent to you."),
        },
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        services.announcement_mark_read(self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="The failed deliveries and why",
        description="A manager sees those of the properties they manage.",
        responses={200: FailureSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def failures(self, request, pk=None):
        rows = selectors.announcement_failures(self.get_object(), seen_by=request.user)
        return Response(FailureSerializer(rows, many=True).data)
