from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api import ScopedIdField, StatusChangeSerializer
from apps.core.validators import NOTE_MAX_LENGTH
from apps.front_desk.models import (
    PICKUP_CODE_LENGTH,
    TRACKING_NUMBER_MAX_LENGTH,
    Carrier,
    Parcel,
    ParcelSize,
    ParcelStatusChange,
    tracking_number_validator,
)
from apps.front_desk.services import AREA, PARCELS_PER_LOG_MAX
from apps.properties.selectors import residents_for_area, units_for_area


class ParcelStatusChangeSerializer(StatusChangeSerializer):
    class Meta:
        model = ParcelStatusChange
        fields = ["id", "from_status", "to_status", "changed_by", "changed_at", "note"]
        read_only_fields = fields


class ParcelSerializer(serializers.ModelSerializer):
    """A parcel as the API returns it; its pickup code only to its resident."""

    pickup_code = serializers.SerializerMethodField(
        help_text="The code that collects it: shown to its resident only (null to staff)."
    )

    class Meta:
        model = Parcel
        fields = [
            "id",
            "property",
            "unit",
            "resident",
            "carrier",
            "tracking_number",
            "size",
            "storage_location",
            "note",
            "status",
            "version",
            "pickup_code",
            "created_at",
            "updated_at",
            "picked_up_at",
            "collected_by",
            "returned_at",
            "reminded_at",
            "recipient_moved_out",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_pickup_code(self, parcel):
        request = self.context.get("request")
        mine = request is not None and request.user.pk == parcel.resident_id
        return parcel.pickup_code if mine else None


class ParcelDetailSerializer(ParcelSerializer):
    history = ParcelStatusChangeSerializer(many=True, read_only=True)

    class Meta(ParcelSerializer.Meta):
        fields = [*ParcelSerializer.Meta.fields, "history"]
        read_only_fields = fields


def _units_at_desk(user):
    return units_for_area(user, AREA)


def _residents_at_desk(user):
    return residents_for_area(user, AREA)


class ParcelLogSerializer(serializers.Serializer):
    """What the desk sends when parcels arrive for one resident: one parcel per tracking
    number, all with one pickup code."""

    unit = ScopedIdField(_units_at_desk, help_text="The recipient's unit.")
    resident = ScopedIdField(
        _residents_at_desk,
        required=False,
        allow_null=True,
        help_text="The recipient; defaults to the unit's resident (the longest there).",
    )
    carrier = serializers.ChoiceField(choices=Carrier.choices)
    tracking_numbers = serializers.ListField(
        child=serializers.CharField(
            max_length=TRACKING_NUMBER_MAX_LENGTH, validators=[tracking_number_validator]
        ),
        min_length=1,
        max_length=PARCELS_PER_LOG_MAX,
        help_text="One per parcel, as scanned.",
    )
    size = serializers.ChoiceField(choices=ParcelSize.choices, default=ParcelSize.SMALL)
    storage_location = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True
    )
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, default="", allow_blank=True
    )


class ParcelPickUpSerializer(serializers.Serializer):
    """Either the resident's pickup code, or the person they authorised with a note."""

    code = serializers.CharField(
        max_length=PICKUP_CODE_LENGTH, required=False, default="", allow_blank=True
    )
    collected_by = serializers.CharField(
        max_length=200,
        required=False,
        default="",
        allow_blank=True,
        help_text="Who collects it for the resident (instead of the code); needs a note.",
    )
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, default="", allow_blank=True
    )


class ParcelReturnSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, default="", allow_blank=True
    )
