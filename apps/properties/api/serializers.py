from rest_framework import serializers

from apps.core.api import ScopedIdField
from apps.properties.models import Property, Unit
from apps.properties.selectors import properties_visible_to


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
