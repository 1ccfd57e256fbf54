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
from apps.properties.models import Unit
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


class ComplaintStatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComplaintStatusChange
        fields = ["id", "from_status", "to_status", "changed_by", "changed_at", "note"]
        read_only_fields = fields


class ComplaintSerializer(serializers.ModelSerializer):
    allowed_transitions = serializers.SerializerMethodField(
        help_text="Statuses the requesting user may move this complaint to now."
    )

    class Meta:
        model = Complaint
        fields = [
            "id", "property", "unit", "resident", "category", "subject", "description",
            "status", "version", "created_at", "updated_at", "resolved_at", "rating",
            "rating_comment", "rated_at", "allowed_transitions",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, obj):
        request = self.context.get("request")
        if request is None or services.complaint_actor(request.user) != services.STAFF:
            return []
        return services.COMPLAINT_WORKFLOW.allowed(obj.status)


class ComplaintDetailSerializer(ComplaintSerializer):
    comments = ComplaintCommentSerializer(many=True, read_only=True)
    history = ComplaintStatusChangeSerializer(many=True, read_only=True)

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "comments", "history"]
        read_only_fields = fields


class ComplaintCreateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=ComplaintCategory.choices)
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000)
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.none(),
        required=False,
        help_text="Your unit; defaults to your current unit.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["unit"].queryset = units_visible_to(request.user)


class ComplaintCommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class ComplaintTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ComplaintStatus.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The version you last saw; a stale one is refused with 409.",
    )


class ComplaintRateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
