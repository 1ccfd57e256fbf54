from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.serializers import (
    DetailSerializer,
    PasswordChangeSerializer,
    TokenObtainSerializer,
    TokenSerializer,
)
from apps.accounts.models import ApiToken
from apps.accounts.services import (
    api_token_issue,
    api_token_revoke,
    api_tokens_revoke_all,
    user_password_change,
)
from apps.core.throttling import ScopedRateThrottle


class AuthThrottled(APIView):
    permission_classes = [AllowAny]
    # No session auth: these are called before a login, and need no CSRF token.
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class TokenView(AuthThrottled):
    """Log in: a new API token (valid for TOKEN_TTL seconds). Repeated failures lock the
    account and the client address for a growing time (429 with Retry-After)."""

    @extend_schema(request=TokenObtainSerializer, responses={200: TokenSerializer})
    def post(self, request):
        serializer = TokenObtainSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, key = api_token_issue(serializer.validated_data["user"])
        return Response({"token": key, "expires_at": token.expires_at})


def _current_token(request):
    return request.auth if isinstance(request.auth, ApiToken) else None


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Token revoked.")})
    def post(self, request):
        """Log out: the token of this request stops working."""
        token = _current_token(request)
        if token is not None:
            api_token_revoke(token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses={204: OpenApiResponse(description="Every token revoked.")}
    )
    def post(self, request):
        """Log out everywhere: every token of this user stops working, this one included."""
        api_tokens_revoke_all(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]
    extra_error_statuses = (429,)  # wrong current passwords lock like wrong logins

    @extend_schema(request=PasswordChangeSerializer, responses={200: DetailSerializer})
    def post(self, request):
        """Change the password (the current one required); every other token is revoked.
        Wrong current passwords count as failed logins (429 with Retry-After once locked)."""
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_password_change(
            request.user,
            **serializer.validated_data,
            request=request,
            keep_token=_current_token(request),
        )
        return Response({"detail": "Your password is changed; your other sessions are logged out."})
