import re

from django.conf import settings
from django.core.validators import validate_email
from rest_framework import serializers

from apps.notifications.models import (
    Category,
    Channel,
    Notification,
    NotificationStatusChange,
)
from apps.notifications.selectors import user_with_address
from apps.properties.selectors import users_reachable_by

PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,30}$")


class SendSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=Channel.choices)
    recipient = serializers.CharField(
        max_length=254,
        help_text="a user id, or the email address (email) or phone number (sms) of a user of "
        "your properties (any address when NOTIFICATION_SEND_ANY_ADDRESS is on)",
    )
    content = serializers.CharField(max_length=5000)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    variables = serializers.DictField(required=False, default=dict)

    def validate(self, attrs):
        recipient, channel = attrs["recipient"].strip(), attrs["type"]
        # Only users of the sender's properties: any other id or address is "no such user".
        reachable = users_reachable_by(self.context["request"].user).filter(is_active=True)
        if recipient.isdigit():
            user = reachable.filter(id=int(recipient)).first()
            if user is None:
                raise serializers.ValidationError({"recipient": ["No such user."]})
            attrs["user"], attrs["address"] = user, ""
            return attrs
        if channel == Channel.IN_APP:
            raise serializers.ValidationError({"recipient": ["In-app needs a user id."]})
        if channel == Channel.EMAIL:
            try:
                validate_email(recipient)
            except Exception as exc:
                raise serializers.ValidationError(
                    {"recipient": ["Enter a user id or a valid email address."]}
                ) from exc
        elif not PHONE.match(recipient):
            raise serializers.ValidationError(
                {"recipient": ["Enter a user id or a phone number, e.g. +15550100."]}
            )
        if settings.NOTIFICATION_SEND_ANY_ADDRESS:
            attrs["user"], attrs["address"] = None, recipient
            return attrs
        # Not an open relay (free text, SMS costs): an address is that of a user it reaches.
        user = user_with_address(reachable, channel, recipient)
        if user is None:
            raise serializers.ValidationError(
                {"recipient": ["No user of your properties has this address."]}
            )
        attrs["user"], attrs["address"] = user, ""
        return attrs


class SendAcceptedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    status_url = serializers.CharField()


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationStatusChange
        fields = ["status", "at", "detail"]


class NotificationStatusSerializer(serializers.ModelSerializer):
    history = StatusChangeSerializer(many=True, read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "channel",
            "category",
            "status",
            "attempts",
            "resends",
            "last_error",
            "created_at",
            "sent_at",
            "history",
        ]


class InboxSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "category", "subject", "body_text", "created_at", "read_at"]


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class PreferenceSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    enabled = serializers.BooleanField()
    is_default = serializers.BooleanField(read_only=True)
    mandatory = serializers.BooleanField(read_only=True)
