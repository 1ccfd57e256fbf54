"""Token authentication against ApiToken: the `Authorization: Token <key>` header, as
before, but the key is looked up by its digest and refused once expired or revoked."""

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from apps.accounts.models import ApiToken
from apps.accounts.services import token_digest


class ApiTokenAuthentication(TokenAuthentication):
    model = ApiToken

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(key), expires_at__gt=timezone.now())
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token
