from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ADMINS_ONLY, RolePermission, role_rule
from apps.notifications.api.serializers import (
    InboxSerializer,
    NotificationStatusSerializer,
    PreferenceSerializer,
    SendAcceptedSerializer,
    SendSerializer,
    UnreadCountSerializer,
)
from apps.notifications.models import Category, Channel, Notification
from apps.notifications.selectors import (
    inbox_for,
    inbox_unread_count,
    notification_with_history,
    notifications_visible_to,
    preferences_effective,
    user_may_send,
)
from apps.notifications.services import (
    notification_mark_read,
    notification_request,
    notifications_resend,
    preferences_update,
)


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The user's own in-app inbox, plus sending and delivery status."""

    serializer_class = InboxSerializer
    queryset = Notification.objects.none()
    permission_classes = [RolePermission]
    role_rules = {
        "send": role_rule(user_may_send, "Only staff and administrators may send notifications."),
        "resend": ADMINS_ONLY,
    }
    lookup_value_regex = r"[0-9a-fA-F-]{32,36}"  # ids are UUIDs; anything else: 404

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        unread = self.request.query_params.get("unread")
        flag = {"true": True, "1": True, "false": False, "0": False}.get((unread or "").lower())
        return inbox_for(self.request.user, unread=flag)

    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="only unread (or read)")]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=SendSerializer, responses={202: SendAcceptedSerializer})
    @action(detail=False, methods=["post"])
    def send(self, request):
        serializer = SendSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        variables = {**data["variables"], "content": data["content"]}
        if data.get("subject"):
            variables["subject"] = data["subject"]
        notification = notification_request(
            channel=data["type"],
            template="generic",
            variables=variables,
            category=Category.GENERAL,
            user=data["user"],
            address=data["address"],
            requested_by=request.user,
            explicit=True,
        )
        if notification is None:
            raise exceptions.ValidationError(
                {"recipient": ["The recipient has switched this channel off or has no address."]}
            )
        url = reverse("notification-status", kwargs={"pk": notification.id})
        return Response(
            {"id": notification.id, "status": notification.status, "status_url": url},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(responses=NotificationStatusSerializer)
    @action(detail=True, methods=["get"], url_path="status", url_name="status")
    def delivery_status(self, request, pk=None):
        notification = notification_with_history(notifications_visible_to(request.user), pk)
        if notification is None:
            raise exceptions.NotFound()
        return Response(NotificationStatusSerializer(notification).data)

    @extend_schema(request=None, responses={202: NotificationStatusSerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """An operator's resend of a notification of unknown outcome (409 for any other
        status): sent once more, marked as a possible duplicate."""
        visible = notifications_visible_to(request.user)
        if notification_with_history(visible, pk) is None:
            raise exceptions.NotFound()
        notifications_resend([pk], by=request.user)
        notification = notification_with_history(visible, pk)
        return Response(NotificationStatusSerializer(notification).data, status=202)

    @extend_schema(request=None, responses=InboxSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = inbox_for(request.user).filter(id=pk).first()
        if notification is None:
            raise exceptions.NotFound()
        return Response(InboxSerializer(notification_mark_read(notification)).data)

    @extend_schema(responses=UnreadCountSerializer)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": inbox_unread_count(request.user)})


# A preference list names each (category, channel) pair at most once.
PAIRS = len(Category.choices) * len(Channel.choices)


class PreferencesView(APIView):
    """The user's channel preferences per category: every pair, defaults included."""

    @extend_schema(responses=PreferenceSerializer(many=True))
    def get(self, request):
        return Response(preferences_effective(request.user))

    @extend_schema(
        request=PreferenceSerializer(many=True), responses=PreferenceSerializer(many=True)
    )
    def put(self, request):
        serializer = PreferenceSerializer(data=request.data, many=True, max_length=PAIRS)
        serializer.is_valid(raise_exception=True)
        preferences_update(request.user, serializer.validated_data)
        return Response(preferences_effective(request.user))
