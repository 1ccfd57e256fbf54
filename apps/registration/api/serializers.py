from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.accounts.models import Role, User
from apps.core.api import ScopedIdField
from apps.properties.models import Residency, Unit
from apps.properties.selectors import units_managed_by
from apps.registration.models import Invitation


class RegisterSerializer(serializers.Serializer):
    # Username = email, and usernames are at most 150 characters.
    email = serializers.EmailField(max_length=150)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    name = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="full name (alternative)"
    )
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    unit_code = serializers.CharField(
        max_length=32,
        required=False,
        help_text="claim this unit: a manager of its property must approve the residency "
        "(a code no unit has is accepted the same way and claims nothing)",
    )
    invitation_token = serializers.CharField(
        max_length=1000, required=False, help_text="the token of an invitation email"
    )

    def validate_unit_code(self, value):
        # A code no unit has is accepted like a real one (the account is created, nothing
        # is claimed): refusing it would tell anyone which codes exist.
        return Unit.objects.filter(code__iexact=value.strip()).first()

    def validate(self, attrs):
        first, last = attrs.get("first_name", ""), attrs.get("last_name", "")
        if not (first or last) and attrs.get("name"):
            first, _, last = attrs["name"].strip().partition(" ")
        attrs["first_name"], attrs["last_name"] = first[:150], last.strip()[:150]
        attrs.pop("name", None)
        candidate = User(
            username=attrs["email"],
            email=attrs["email"],
            first_name=attrs["first_name"],
            last_name=attrs["last_name"],
            role=Role.RESIDENT,
        )
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        if ("unit_code" in attrs) == ("invitation_token" in attrs):
            raise serializers.ValidationError(
                {"unit_code": ["Give either a unit code or an invitation token."]}
            )
        if "unit_code" in attrs:
            attrs["unit"] = attrs.pop("unit_code")
        return attrs


class ConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000)


class MeUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    property_id = serializers.IntegerField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    phone = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    unit = MeUnitSerializer(allow_null=True)
    property_ids = serializers.ListField(child=serializers.IntegerField())


class TokenOnlySerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000)


class InvitationSerializer(serializers.ModelSerializer):
    unit = ScopedIdField(units_managed_by)
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    start_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="A planned move-in (today or later): the residency starts, and its rights "
        "begin, on this day; empty: the day the invitation is accepted.",
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "unit",
            "unit_code",
            "email",
            "start_date",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_by",
            "accepted_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_by",
            "accepted_at",
        ]


class ResidencySerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    property = serializers.IntegerField(source="unit.property_id", read_only=True)
    resident_email = serializers.EmailField(source="resident.email", read_only=True)
    resident_name = serializers.CharField(source="resident.get_full_name", read_only=True)

    class Meta:
        model = Residency
        fields = [
            "id",
            "resident",
            "resident_email",
            "resident_name",
            "unit",
            "unit_code",
            "property",
            "start_date",
            "end_date",
            "status",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=150)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
