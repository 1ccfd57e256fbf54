from rest_framework import serializers

from apps.core.api import (
    AllowedTransitionsField,
    ScopedIdField,
    StatusChangeSerializer,
    TransitionSerializer,
)
from apps.core.validators import NOTE_MAX_LENGTH
from apps.properties.models import (
    MoveOutRequest,
    MoveOutStatus,
    MoveOutStatusChange,
    Property,
    Unit,
)
from apps.properties.selectors import current_residencies, properties_visible_to
from apps.properties.services import MOVE_OUT_WORKFLOW


class PropertySerializer(serializers.ModelSerializer):
    class Meta:
        model = Property
        fields = ["id", "name", "code", "address", "created_at"]
        read_only_fields = ["id", "created_at"]


class UnitSerializer(serializers.ModelSerializer):
    property = ScopedIdField(properties_visible_to)
    property_name = serializers.CharField(source="property.name", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "property", "property_name", "code", "floor", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_property(self, value):
        if self.instance is not None and value.id != self.instance.property_id:
            raise serializers.ValidationError("A unit cannot move to another property.")
        return value


class MoveOutStatusChangeSerializer(StatusChangeSerializer):
    class Meta:
        model = MoveOutStatusChange
        fields = ["id", "from_status", "to_status", "changed_by", "changed_at", "note"]
        read_only_fields = fields


class MoveOutRequestSerializer(serializers.ModelSerializer):
    """A move-out request as the API returns it."""

    allowed_transitions = AllowedTransitionsField(MOVE_OUT_WORKFLOW)
    unit_code = serializers.CharField(source="unit.code", read_only=True)

    class Meta:
        model = MoveOutRequest
        fields = [
            "id",
            "residency",
            "property",
            "unit",
            "unit_code",
            "resident",
            "end_date",
            "note",
            "status",
            "version",
            "created_at",
            "updated_at",
            "allowed_transitions",
        ]
        read_only_fields = fields


class MoveOutRequestDetailSerializer(MoveOutRequestSerializer):
    history = MoveOutStatusChangeSerializer(many=True, read_only=True)

    class Meta(MoveOutRequestSerializer.Meta):
        fields = [*MoveOutRequestSerializer.Meta.fields, "history"]
        read_only_fields = fields


class MoveOutRequestCreateSerializer(serializers.Serializer):
    """What a resident sends to ask to move out."""

    end_date = serializers.DateField(
        help_text="Your last day in the home (today or later, not before the residency starts)."
    )
    residency = ScopedIdField(
        current_residencies,
        required=False,
        help_text="The residency to end; defaults to your current one.",
    )
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class MoveOutTransitionSerializer(TransitionSerializer):
    status = serializers.ChoiceField(choices=MoveOutStatus.choices)
