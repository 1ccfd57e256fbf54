from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.properties.models import Unit
from apps.properties.selectors import units_visible_to
from apps.repairs import services
from apps.repairs.models import (
    RepairCategory,
    RepairRequest,
    RepairStatus,
    RepairStatusChange,
    RepairUrgency,
)


class RepairStatusChangeSerializer(serializers.ModelSerializer):
    changed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = RepairStatusChange
        fields = ["id", "from_status", "to_status", "changed_by", "changed_by_name", "changed_at",
                  "note"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_changed_by_name(self, obj):
        return str(obj.changed_by) if obj.changed_by_id else None


class RepairRequestSerializer(serializers.ModelSerializer):
    """A repair request as the API returns it."""

    allowed_transitions = serializers.SerializerMethodField(
        help_text="Statuses the requesting user may move this repair to now."
    )

    class Meta:
        model = RepairRequest
        fields = [
            "id", "property", "unit", "resident", "category", "description", "urgency",
            "preferred_time", "preferred_window", "status", "version", "created_at",
            "updated_at", "resolved_at", "allowed_transitions",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, obj):
        request = self.context.get("request")
        if request is None:
            return []
        actor = services.repair_actor(request.user)
        if actor is None or (actor == services.RESIDENT and obj.resident_id != request.user.pk):
            return []
        return services.REPAIR_WORKFLOW.allowed_now(obj, actor)


class RepairRequestDetailSerializer(RepairRequestSerializer):
    history = RepairStatusChangeSerializer(many=True, read_only=True)

    class Meta(RepairRequestSerializer.Meta):
        fields = [*RepairRequestSerializer.Meta.fields, "history"]
        read_only_fields = fields


class RepairRequestCreateSerializer(serializers.Serializer):
    """What a resident sends to request a repair."""

    category = serializers.ChoiceField(choices=RepairCategory.choices)
    description = serializers.CharField(max_length=5000, trim_whitespace=True)
    urgency = serializers.ChoiceField(
        choices=RepairUrgency.choices, default=RepairUrgency.NORMAL, required=False
    )
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.none(),
        required=False,
        help_text="Your unit; defaults to your current unit.",
    )
    preferred_time = serializers.DateTimeField(required=False, allow_null=True)
    preferred_window = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["unit"].queryset = units_visible_to(request.user)

    def validate_preferred_time(self, value):
        if value is not None and value < timezone.now():
            raise serializers.ValidationError("The preferred time must be in the future.")
        return value


class RepairTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RepairStatus.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The version you last saw; a stale one is refused with 409.",
    )
