from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.complaints import services
from apps.complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintComment,
    ComplaintStatus,
    ComplaintStatusChange,
)
from apps.core.api import (
    AllowedTransitionsField,
    ScopedIdField,
    StatusChangeSerializer,
    TransitionSerializer,
)
from apps.core.validators import NOTE_MAX_LENGTH, TEXT_MAX_LENGTH
from apps.properties.selectors import units_visible_to


class ComplaintCommentSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()
    author_role = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintComment
        fields = ["id", "author", "author_name", "author_role", "body", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author_name(self, obj):
        return str(obj.author) if obj.author_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author_role(self, obj):
        return obj.author.role if obj.author_id else None


class ComplaintStatusChangeSerializer(StatusChangeSerializer):
    class Meta:
        model = ComplaintStatusChange
        fields = ["id", "from_status", "to_status", "changed_by", "changed_at", "note"]
        read_only_fields = fields


class ComplaintSerializer(serializers.ModelSerializer):
    allowed_transitions = AllowedTransitionsField(services.COMPLAINT_WORKFLOW)

    class Meta:
        model = Complaint
        fields = [
            "id",
            "property",
            "unit",
            "resident",
            "category",
            "subject",
            "description",
            "status",
            "version",
            "created_at",
            "updated_at",
            "resolved_at",
            "rating",
            "rating_comment",
            "rated_at",
            "allowed_transitions",
        ]
        read_only_fields = fields


class ComplaintDetailSerializer(ComplaintSerializer):
    comments = ComplaintCommentSerializer(many=True, read_only=True)
    history = ComplaintStatusChangeSerializer(many=True, read_only=True)

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "comments", "history"]
        read_only_fields = fields


class ComplaintCreateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=ComplaintCategory.choices)
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    unit = ScopedIdField(
        units_visible_to, required=False, help_text="Your unit; defaults to your current unit."
    )


class ComplaintCommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=TEXT_MAX_LENGTH)


class ComplaintTransitionSerializer(TransitionSerializer):
    status = serializers.ChoiceField(choices=ComplaintStatus.choices)


class ComplaintRateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
