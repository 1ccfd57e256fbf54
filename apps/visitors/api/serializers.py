from django.utils import timezone
from rest_framework import serializers

from apps.core.api import ScopedIdField
from apps.properties.selectors import (
    residents_for_area,
    unit_current_residencies,
    units_for_area,
)
from apps.visitors.models import Visitor, VisitorStatus, VisitorStatusChange


class VisitorEventSerializer(serializers.ModelSerializer):
    """A visitor's history row, as the API has always shown it: the status reached, when,
    and by whom."""

    status = serializers.ChoiceField(source="to_status", choices=VisitorStatus.choices)
    at = serializers.DateTimeField(source="changed_at")
    by = serializers.PrimaryKeyRelatedField(source="changed_by", read_only=True, allow_null=True)

    class Meta:
        model = VisitorStatusChange
        fields = ["status", "at", "by"]


class VisitorSerializer(serializers.ModelSerializer):
    host_name = serializers.SerializerMethodField()

    class Meta:
        model = Visitor
        fields = [
            "id",
            "property",
            "unit",
            "host",
            "host_name",
            "name",
            "expected_arrival",
            "purpose",
            "vehicle_plate",
            "status",
            "walk_in",
            "arrived_at",
            "departed_at",
            "checked_in_by",
            "checked_out_by",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_host_name(self, obj) -> str | None:
        return str(obj.host) if obj.host_id else None


class VisitorDetailSerializer(VisitorSerializer):
    events = VisitorEventSerializer(source="history", many=True, read_only=True)

    class Meta(VisitorSerializer.Meta):
        fields = [*VisitorSerializer.Meta.fields, "events"]
        read_only_fields = fields


class VisitorExpectSerializer(serializers.Serializer):
    """A resident pre-registers a visitor for their own unit."""

    name = serializers.CharField(max_length=200)
    expected_arrival = serializers.DateTimeField()
    purpose = serializers.CharField(max_length=200, required=False, allow_blank=True)
    vehicle_plate = serializers.CharField(max_length=20, required=False, allow_blank=True)

    def validate_expected_arrival(self, value):
        if value < timezone.now():
            raise serializers.ValidationError("The expected arrival is in the past.")
        return value


class VisitorWalkInSerializer(serializers.Serializer):
    """Security registers a visitor who arrived unannounced."""

    unit = ScopedIdField(lambda user: units_for_area(user, "visitors"))
    name = serializers.CharField(max_length=200)
    host = ScopedIdField(
        lambda user: residents_for_area(user, "visitors"),
        required=False,
        allow_null=True,
        help_text="a current resident of the unit; default: its first resident",
    )
    purpose = serializers.CharField(max_length=200, required=False, allow_blank=True)
    vehicle_plate = serializers.CharField(max_length=20, required=False, allow_blank=True)

    def validate(self, attrs):
        host = attrs.get("host")
        if (
            host is not None
            and not unit_current_residencies(attrs["unit"]).filter(resident=host).exists()
        ):
            raise serializers.ValidationError({"host": ["The host does not live in this unit."]})
        return attrs
