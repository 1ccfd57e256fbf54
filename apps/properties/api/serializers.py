from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.properties.models import Property, Unit
from apps.properties.selectors import properties_visible_to, units_visible_to


class PropertySerializer(serializers.ModelSerializer):
    class Meta:
        model = Property
        fields = ["id", "name", "code", "address", "created_at"]
        read_only_fields = ["id", "created_at"]


class VisiblePropertyField(serializers.PrimaryKeyRelatedField):
    """A property the requesting user may see; any other id is 'does not exist'."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Property.objects.none()
        return properties_visible_to(request.user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleUnitField(serializers.PrimaryKeyRelatedField):
    """A unit the requesting user may see; any other id is 'does not exist'."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return Unit.objects.none()
        return units_visible_to(request.user)


class UnitSerializer(serializers.ModelSerializer):
    property = VisiblePropertyField()
    property_name = serializers.CharField(source="property.name", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "property", "property_name", "code", "floor", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_property(self, value):
        if self.instance is not None and value.id != self.instance.property_id:
            raise serializers.ValidationError("A unit cannot move to another property.")
        return value
