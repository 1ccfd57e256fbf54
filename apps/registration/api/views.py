from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.views import AuthThrottled
from apps.registration.api.serializers import (
    ConfirmSerializer,
    DetailSerializer,
    MeSerializer,
    RegisterSerializer,
)
from apps.registration.selectors import user_profile
from apps.registration.services import ConfirmationError, user_confirm, user_register

REGISTERED = (
    "Thank you. If the details are valid, a confirmation link is on its way to this email "
    "address; follow it to activate the account."
)


class RegisterView(AuthThrottled):
    @extend_schema(request=RegisterSerializer, responses={202: DetailSerializer})
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_register(**serializer.validated_data)
        # The same answer whether or not the email already had an account.
        return Response({"detail": REGISTERED}, status=status.HTTP_202_ACCEPTED)


class ConfirmView(AuthThrottled):
    @extend_schema(request=ConfirmSerializer, responses={200: DetailSerializer})
    def post(self, request):
        serializer = ConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user_confirm(token=serializer.validated_data["token"])
        except ConfirmationError as exc:
            return Response({"token": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": "Your account is confirmed; you can log in now."})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        profile = user_profile(request.user)
        unit = profile["unit"]
        profile["unit"] = (
            {"id": unit.id, "code": unit.code, "property_id": unit.property_id} if unit else None
        )
        return Response(MeSerializer(profile).data)
