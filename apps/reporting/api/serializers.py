from rest_framework import serializers

from apps.reporting.models import DailyPropertyStat


class DailyStatSerializer(serializers.ModelSerializer):
    class Meta:
        model = DailyPropertyStat
        fields = ["property_id", "day", "metric", "category", "urgency", "count"]


class DailyQuerySerializer(serializers.Serializer):
    property = serializers.IntegerField(required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class AssetReportRowSerializer(serializers.Serializer):
    property_id = serializers.IntegerField()
    category = serializers.CharField()
    condition = serializers.CharField()
    assets = serializers.IntegerField()
    total_cost = serializers.DecimalField(max_digits=16, decimal_places=2)
