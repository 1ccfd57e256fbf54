from rest_framework import serializers

from apps.assets.models import Asset, AssetEvent
from apps.core.api import ScopedIdField
from apps.properties.selectors import properties_for_area


class AssetEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssetEvent
        fields = ["action", "version", "changes", "at", "by"]


class AssetSerializer(serializers.ModelSerializer):
    property = ScopedIdField(lambda user: properties_for_area(user, "assets"))
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="on update: the version you last read; a different current version is 409",
    )

    class Meta:
        model = Asset
        fields = [
            "id",
            "property",
            "name",
            "category",
            "location",
            "serial",
            "purchase_date",
            "cost",
            "condition",
            "warranty_end",
            "status",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "created_at", "updated_at"]

    def validate_property(self, value):
        if self.instance is not None and value.id != self.instance.property_id:
            raise serializers.ValidationError("An asset cannot move to another property.")
        return value

    def validate(self, attrs):
        purchase = attrs.get("purchase_date", getattr(self.instance, "purchase_date", None))
        warranty = attrs.get("warranty_end", getattr(self.instance, "warranty_end", None))
        if purchase and warranty and warranty < purchase:
            raise serializers.ValidationError(
                {"warranty_end": ["The warranty cannot end before the purchase date."]}
            )
        return attrs


class AssetDetailSerializer(AssetSerializer):
    events = AssetEventSerializer(many=True, read_only=True)

    class Meta(AssetSerializer.Meta):
        fields = [*AssetSerializer.Meta.fields, "events"]
