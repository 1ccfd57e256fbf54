from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from apps.reporting.models import DailyPropertyStat
from apps.reporting.periods import periods
from apps.reporting.selectors import GROUP_BY

DEFAULT_DAYS = 90
MAX_PERIODS = 1000


class DailyStatSerializer(serializers.ModelSerializer):
    class Meta:
        model = DailyPropertyStat
        fields = ["property_id", "day", "metric", "category", "urgency", "count"]


class DailyQuerySerializer(serializers.Serializer):
    property = serializers.IntegerField(required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class ReportQuerySerializer(serializers.Serializer):
    """?property=&from=&to=&group_by= ("from" is a Python keyword: fields set below)."""

    property = serializers.IntegerField(required=False)
    group_by = serializers.ChoiceField(choices=GROUP_BY, default="day")

    def validate(self, attrs):
        date_to = attrs.get("to") or timezone.localdate()
        date_from = attrs.get("from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise serializers.ValidationError({"from": ["'from' must not be after 'to'."]})
        if len(periods(date_from, date_to, attrs["group_by"])) > MAX_PERIODS:
            raise serializers.ValidationError(
                {"group_by": [f"At most {MAX_PERIODS} periods; group by a longer period."]}
            )
        return {**attrs, "from": date_from, "to": date_to}


ReportQuerySerializer._declared_fields["from"] = serializers.DateField(
    required=False, help_text=f"YYYY-MM-DD, inclusive (default: {DEFAULT_DAYS} days before 'to')"
)
ReportQuerySerializer._declared_fields["to"] = serializers.DateField(
    required=False, help_text="YYYY-MM-DD, inclusive (default: today)"
)


class RepairReportRowSerializer(serializers.Serializer):
    period = serializers.DateField(help_text="first day of the period")
    property_id = serializers.IntegerField()
    category = serializers.CharField()
    urgency = serializers.CharField()
    opened = serializers.IntegerField()
    resolved = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    reopened = serializers.IntegerField()
    backlog = serializers.IntegerField(help_text="open repairs at the end of the period")
    acknowledged = serializers.IntegerField()
    acknowledge_avg_seconds = serializers.IntegerField(allow_null=True)
    acknowledge_p90_seconds = serializers.IntegerField(allow_null=True)
    resolutions = serializers.IntegerField()
    resolve_avg_seconds = serializers.IntegerField(allow_null=True)
    resolve_p90_seconds = serializers.IntegerField(allow_null=True)


class ComplaintReportRowSerializer(serializers.Serializer):
    period = serializers.DateField(help_text="first day of the period")
    property_id = serializers.IntegerField()
    category = serializers.CharField()
    filed = serializers.IntegerField()
    resolved = serializers.IntegerField()
    rated = serializers.IntegerField()
    rating_avg = serializers.FloatField(allow_null=True)


class MovesReportRowSerializer(serializers.Serializer):
    period = serializers.DateField(help_text="first day of the period")
    property_id = serializers.IntegerField()
    moved_in = serializers.IntegerField()
    moved_out = serializers.IntegerField()


class VisitorReportRowSerializer(serializers.Serializer):
    period = serializers.DateField(help_text="first day of the period")
    property_id = serializers.IntegerField()
    hour = serializers.IntegerField(help_text="hour of arrival, property's time zone")
    arrivals = serializers.IntegerField()


class ParcelReportRowSerializer(serializers.Serializer):
    period = serializers.DateField(help_text="first day of the period")
    property_id = serializers.IntegerField()
    received = serializers.IntegerField()
    picked_up = serializers.IntegerField()
    returned = serializers.IntegerField(help_text="returned to sender")
    pickup_median_seconds = serializers.IntegerField(
        allow_null=True, help_text="median time from arrival to pickup (within about 10%)"
    )
    pickup_p90_seconds = serializers.IntegerField(
        allow_null=True, help_text="90th percentile time from arrival to pickup"
    )


class AssetReportRowSerializer(serializers.Serializer):
    property_id = serializers.IntegerField()
    category = serializers.CharField()
    condition = serializers.CharField()
    assets = serializers.IntegerField()
    total_cost = serializers.DecimalField(max_digits=16, decimal_places=2)
    warranty_ending_30 = serializers.IntegerField(help_text="warranties ending within 30 days")
    warranty_ending_90 = serializers.IntegerField(help_text="warranties ending within 90 days")


class AmenityReportRowSerializer(serializers.Serializer):
    period = serializers.DateField(help_text="first day of the period")
    property_id = serializers.IntegerField()
    amenity_id = serializers.IntegerField()
    amenity = serializers.CharField()
    bookings = serializers.IntegerField()
    cancellations = serializers.IntegerField()
    no_shows = serializers.IntegerField()
    booked_hours = serializers.FloatField(help_text="place-hours booked (kept bookings)")
    open_hours = serializers.FloatField(help_text="place-hours open (hours × capacity)")
    utilisation = serializers.FloatField(allow_null=True, help_text="booked / open, 0-1")
