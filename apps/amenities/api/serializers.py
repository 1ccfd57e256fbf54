import datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.amenities import services
from apps.amenities.models import (
    Amenity,
    AmenityClosure,
    Reservation,
    ReservationStatus,
    ReservationStatusChange,
)
from apps.amenities.selectors import AREA, amenities_visible_to
from apps.core.api import (
    AllowedTransitionsField,
    ScopedIdField,
    StatusChangeSerializer,
    TransitionSerializer,
)
from apps.core.validators import NOTE_MAX_LENGTH
from apps.properties.selectors import properties_for_area

# Free slots are listed for days this near today (a day far off is no one's booking).
SLOT_DAYS_AROUND_TODAY = 366


class AmenityClosureSerializer(serializers.ModelSerializer):
    class Meta:
        model = AmenityClosure
        fields = ["id", "amenity", "starts_on", "ends_on", "reason", "created_at"]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$",
        "example": "08:00",
        "description": "Wall-clock time in the property's time zone (no offset).",
    }
)
class WallClockTimeField(serializers.TimeField):
    """A time of day on the property's clock: "HH:MM" or "HH:MM:SS" (OpenAPI's "time"
    format would demand an offset, which a daily opening hour has none of)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"], **kwargs)


class AmenitySerializer(serializers.ModelSerializer):
    """An amenity; managers of its property (and admins) write it."""

    opens_at = WallClockTimeField(required=False)
    closes_at = WallClockTimeField(required=False, help_text="After opens_at, the same day.")

    property = ScopedIdField(lambda user: properties_for_area(user, AREA))
    time_zone = serializers.CharField(source="property.time_zone", read_only=True)
    exclusive = serializers.SerializerMethodField()

    class Meta:
        model = Amenity
        fields = [
            "id",
            "property",
            "name",
            "kind",
            "opens_at",
            "closes_at",
            "time_zone",
            "slot_minutes",
            "max_booking_minutes",
            "capacity",
            "exclusive",
            "booking_horizon_days",
            "weekly_limit",
            "needs_approval",
            "cancellation_deadline_hours",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "time_zone", "exclusive", "created_at"]

    @extend_schema_field(serializers.BooleanField())
    def get_exclusive(self, amenity):
        return amenity.capacity == 1


class AmenityUpdateSerializer(AmenitySerializer):
    """An amenity's settings; it stays at its property."""

    property = serializers.PrimaryKeyRelatedField(read_only=True)


class ClosureAnnounceSerializer(serializers.Serializer):
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)

    def validate_starts_on(self, value):
        if value < timezone.localdate() - datetime.timedelta(days=1):
            raise serializers.ValidationError("A closure cannot start in the past.")
        return value

    def validate_ends_on(self, value):
        if value > timezone.localdate() + datetime.timedelta(days=SLOT_DAYS_AROUND_TODAY):
            raise serializers.ValidationError("A closure ends within a year.")
        return value


class SlotsQuerySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The day, in the property's time zone.")

    def validate_date(self, value):
        if abs((value - timezone.localdate()).days) > SLOT_DAYS_AROUND_TODAY:
            raise serializers.ValidationError(
                f"Pick a day within {SLOT_DAYS_AROUND_TODAY} days of today."
            )
        return value


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    places_left = serializers.IntegerField()


class FreeSlotsSerializer(serializers.Serializer):
    date = serializers.DateField()
    time_zone = serializers.CharField()
    closed = serializers.CharField(allow_null=True, help_text="Why the day is closed, if it is.")
    slots = SlotSerializer(many=True)


class ReservationStatusChangeSerializer(StatusChangeSerializer):
    class Meta:
        model = ReservationStatusChange
        fields = ["id", "from_status", "to_status", "changed_by", "changed_at", "note"]
        read_only_fields = fields


class ReservationSerializer(serializers.ModelSerializer):
    """A reservation as the API returns it (times in UTC; the amenity's zone alongside)."""

    allowed_transitions = AllowedTransitionsField(services.RESERVATION_WORKFLOW)
    amenity_name = serializers.CharField(source="amenity.name", read_only=True)
    time_zone = serializers.CharField(source="amenity.property.time_zone", read_only=True)

    class Meta:
        model = Reservation
        fields = [
            "id",
            "amenity",
            "amenity_name",
            "property",
            "unit",
            "resident",
            "starts_at",
            "ends_at",
            "time_zone",
            "status",
            "version",
            "created_at",
            "updated_at",
            "allowed_transitions",
        ]
        read_only_fields = fields


class ReservationDetailSerializer(ReservationSerializer):
    history = ReservationStatusChangeSerializer(many=True, read_only=True)

    class Meta(ReservationSerializer.Meta):
        fields = [*ReservationSerializer.Meta.fields, "history"]
        read_only_fields = fields


class ReservationCreateSerializer(serializers.Serializer):
    """What a resident sends to book: the amenity and the time (ISO 8601 with an offset,
    on the slot grid)."""

    amenity = ScopedIdField(amenities_visible_to)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class ReservationTransitionSerializer(TransitionSerializer):
    status = serializers.ChoiceField(choices=ReservationStatus.choices)
