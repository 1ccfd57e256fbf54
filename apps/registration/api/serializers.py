from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.accounts.models import Role, User
from apps.properties.models import Unit


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
    unit_code = serializers.CharField(max_length=32)

    def validate_unit_code(self, value):
        unit = Unit.objects.filter(code__iexact=value.strip()).first()
        if unit is None:
            raise serializers.ValidationError("No unit has this code; check it with your manager.")
        return unit

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
        attrs["unit"] = attrs.pop("unit_code")
        return attrs


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


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
