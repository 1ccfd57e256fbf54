from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.accounts.api.serializers import TokenObtainSerializer, TokenSerializer


class AuthThrottled(APIView):
    permission_classes = [AllowAny]
    # No session auth: these are called before a login, and need no CSRF token.
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class TokenView(AuthThrottled):
    @extend_schema(request=TokenObtainSerializer, responses={200: TokenSerializer})
    def post(self, request):
        serializer = TokenObtainSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
