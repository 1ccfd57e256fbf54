from django.contrib.auth import authenticate
from rest_framework import serializers


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(
        required=False, allow_blank=True, help_text="username or email"
    )
    email = serializers.EmailField(required=False, allow_blank=True)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})

    def validate(self, attrs):
        login = attrs.get("username") or attrs.get("email")
        if not login:
            raise serializers.ValidationError({"username": ["Give a username or an email."]})
        # Raises LoginLocked (429) while the account or the address is locked.
        user = authenticate(self.context["request"], username=login, password=attrs["password"])
        if user is None:
            raise serializers.ValidationError(
                "Unable to log in with these credentials.", code="authorization"
            )
        attrs["user"] = user
        return attrs


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    new_password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
