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


class RepairRequestSerializer(serializers.Serializer):
    """A repair request as the API returns it."""

    # Declared rather than a ModelSerializer's: DRF builds a ModelSerializer's fields from
    # the model for every instance it serializes, about 8% of a repair POST's CPU
    # (docs/BENCHMARKS.md "Where a repair POST spends its time"). Related objects as ids;
    # the OpenAPI schema is the ModelSerializer's, field for field.
    id = serializers.IntegerField(read_only=True)
    property = serializers.IntegerField(source="property_id", read_only=True)
    unit = serializers.IntegerField(source="unit_id", read_only=True)
    resident = serializers.IntegerField(source="resident_id", read_only=True)
    category = serializers.ChoiceField(choices=RepairCategory.choices, read_only=True)
    description = serializers.CharField(read_only=True)
    urgency = serializers.ChoiceField(choices=RepairUrgency.choices, read_only=True)
    preferred_time = serializers.DateTimeField(read_only=True, allow_null=True)
    preferred_window = serializers.CharField(
        read_only=True, help_text=RepairRequest._meta.get_field("preferred_window").help_text
    )
    status = serializers.ChoiceField(choices=RepairStatus.choices, read_only=True)
    version = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    allowed_transitions = AllowedTransitionsField(services.REPAIR_WORKFLOW)


class RepairRequestDetailSerializer(RepairRequestSerializer):
    history = RepairStatusChangeSerializer(many=True, read_only=True)


def _units_with_property(user):
    """The units `user` may choose, each with its property (the submit service reads it:
    one query fewer per POST)."""
    return units_visible_to(user).select_related("property")


class RepairRequestCreateSerializer(serializers.Serializer):
    """What a resident sends to request a repair."""

    category = serializers.ChoiceField(choices=RepairCategory.choices)
    description = serializers.CharField(max_length=TEXT_MAX_LENGTH, trim_whitespace=True)
    urgency = serializers.ChoiceField(
        choices=RepairUrgency.choices, default=RepairUrgency.NORMAL, required=False
    )
    unit = ScopedIdField(
        _units_with_property, required=False, help_text="Your unit; defaults to your current unit."
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
