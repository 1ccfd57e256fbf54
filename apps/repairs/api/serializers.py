from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api import (
    AllowedTransitionsField,
    ScopedIdField,
    StatusChangeSerializer,
    TransitionSerializer,
)
from apps.core.validators import TEXT_MAX_LENGTH
from apps.properties.selectors import units_visible_to
from apps.repairs import services
from apps.repairs.models import (
    RepairCategory,
    RepairRequest,
    RepairStatus,
    RepairStatusChange,
    RepairUrgency,
)


class RepairStatusChangeSerializer(StatusChangeSerializer):
    changed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = RepairStatusChange
        fields = [
            "id",
            "from_status",
            "to_status",
            "changed_by",
            "changed_by_name",
            "changed_at",
            "note",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_changed_by_name(self, obj):
        return str(obj.changed_by) if obj.changed_by_id else None


class RepairRequestSerializer(serializers.ModelSerializer):
    """A repair request as the API returns it."""

    allowed_transitions = AllowedTransitionsField(services.REPAIR_WORKFLOW)

    class Meta:
        model = RepairRequest
        fields = [
            "id",
            "property",
            "unit",
            "resident",
            "category",
            "description",
            "urgency",
            "preferred_time",
            "preferred_window",
            "status",
            "version",
            "created_at",
            "updated_at",
            "resolved_at",
            "allowed_transitions",
        ]
        read_only_fields = fields


class RepairRequestDetailSerializer(RepairRequestSerializer):
    history = RepairStatusChangeSerializer(many=True, read_only=True)

    class Meta(RepairRequestSerializer.Meta):
        fields = [*RepairRequestSerializer.Meta.fields, "history"]
        read_only_fields = fields


class RepairRequestCreateSerializer(serializers.Serializer):
    """What a resident sends to request a repair."""

    category = serializers.ChoiceField(choices=RepairCategory.choices)
    description = serializers.CharField(max_length=TEXT_MAX_LENGTH, trim_whitespace=True)
    urgency = serializers.ChoiceField(
        choices=RepairUrgency.choices, default=RepairUrgency.NORMAL, required=False
    )
    unit = ScopedIdField(
        units_visible_to, required=False, help_text="Your unit; defaults to your current unit."
    )
    preferred_time = serializers.DateTimeField(required=False, allow_null=True)
    preferred_window = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )

    def validate_preferred_time(self, value):
        if value is not None and value < timezone.now():
            raise serializers.ValidationError("The preferred time must be in the future.")
        return value


class RepairTransitionSerializer(TransitionSerializer):
    status = serializers.ChoiceField(choices=RepairStatus.choices)
