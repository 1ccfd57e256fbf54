from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.announcements import selectors, services
from apps.announcements.models import (
    Announcement,
    AnnouncementCategory,
    AnnouncementStatusChange,
    Audience,
)
from apps.core.api import AllowedTransitionsField, CappedIdsField, StatusChangeSerializer
from apps.properties.selectors import properties_managed_by, units_managed_by


class AnnouncementStatusChangeSerializer(StatusChangeSerializer):
    class Meta:
        model = AnnouncementStatusChange
        fields = ["id", "from_status", "to_status", "changed_by", "changed_at", "note"]
        read_only_fields = fields


class CountsSerializer(serializers.Serializer):
    recipients = serializers.IntegerField(help_text="Users it was sent to so far.")
    sent = serializers.IntegerField(help_text="Deliveries (recipient × channel) sent.")
    failed = serializers.IntegerField(help_text="Deliveries failed (see failures/).")
    pending = serializers.IntegerField(help_text="Deliveries requested, not sent yet.")
    read = serializers.IntegerField(help_text="Recipients who read it in-app.")
    in_digest = serializers.IntegerField(
        help_text="Recipients over the hourly throttle, waiting for their digest."
    )
    batches = serializers.IntegerField()
    batches_done = serializers.IntegerField()
    gone = serializers.IntegerField(
        help_text="Planned recipients deleted before their batch ran: skipped."
    )


class AnnouncementSerializer(serializers.ModelSerializer):
    """An announcement as its managers see it."""

    channels = serializers.ListField(child=serializers.CharField(), read_only=True)
    allowed_transitions = AllowedTransitionsField(services.ANNOUNCEMENT_WORKFLOW)
    recipients_planned = serializers.SerializerMethodField(
        help_text="Recipients its plan reaches (a manager: at the properties they manage)."
    )

    class Meta:
        model = Announcement
        fields = [
            "id",
            "properties",
            "floors",
            "units",
            "audience",
            "category",
            "title",
            "body",
            "channels",
            "send_at",
            "author",
            "status",
            "version",
            "recipients_planned",
            "created_at",
            "updated_at",
            "sending_started_at",
            "sent_at",
            "allowed_transitions",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField())
    def get_recipients_planned(self, obj):
        user = self.context["request"].user
        if "managed_property_ids" not in self.context:  # once per answer, not per row
            self.context["managed_property_ids"] = selectors.managed_property_ids(user)
        return selectors.announcement_recipients_planned(
            obj, user, property_ids=self.context["managed_property_ids"]
        )


class AnnouncementDetailSerializer(AnnouncementSerializer):
    counts = serializers.SerializerMethodField()
    history = AnnouncementStatusChangeSerializer(many=True, read_only=True)

    class Meta(AnnouncementSerializer.Meta):
        fields = [*AnnouncementSerializer.Meta.fields, "counts", "history"]
        read_only_fields = fields

    @extend_schema_field(CountsSerializer)
    def get_counts(self, obj):
        return selectors.announcement_counts(obj, seen_by=self.context["request"].user)


class ReceivedAnnouncementSerializer(serializers.ModelSerializer):
    """An announcement as a recipient sees it."""

    read = serializers.SerializerMethodField()

    class Meta:
        model = Announcement
        fields = ["id", "category", "title", "body", "sending_started_at", "read"]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_read(self, obj):
        recipient = selectors.announcement_recipient_for(obj, self.context["request"].user)
        notification = recipient and recipient.in_app_notification
        return bool(notification and notification.read_at)


# Longer lists are refused (400) before their ids are looked up.
MAX_PROPERTIES, MAX_UNITS = 100, 1000


class AnnouncementCreateSerializer(serializers.Serializer):
    properties = CappedIdsField(properties_managed_by, max_length=MAX_PROPERTIES, allow_empty=False)
    floors = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        default=list,
        max_length=200,
        help_text="Only the residents of these floors (ignored when units are given).",
    )
    units = CappedIdsField(
        units_managed_by,
        max_length=MAX_UNITS,
        required=False,
        default=list,
        help_text="Only the residents of these units.",
    )
    audience = serializers.ChoiceField(choices=Audience.choices, default=Audience.RESIDENTS)
    category = serializers.ChoiceField(
        choices=AnnouncementCategory.choices, default=AnnouncementCategory.GENERAL
    )
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=5000)
    channels = serializers.MultipleChoiceField(
        choices=["email", "sms"],
        required=False,
        default=set,
        help_text="In-app always; add email and/or sms.",
    )
    send_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ScheduleSerializer(serializers.Serializer):
    send_at = serializers.DateTimeField(
        required=False, help_text="When to send; defaults to the announcement's send time."
    )
    version = serializers.IntegerField(min_value=1, required=False)


class PreviewSerializer(serializers.Serializer):
    recipients = serializers.IntegerField()
    by_property = serializers.DictField(child=serializers.IntegerField())


class FailureSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    username = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()
    notification = serializers.UUIDField()
