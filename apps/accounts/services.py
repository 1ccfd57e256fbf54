"""Writes of the accounts app: API tokens and passwords."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.models import ApiToken
from apps.core.pruning import delete_in_chunks


def token_digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_issue(user) -> tuple[ApiToken, str]:
    """A new token for `user`, valid for settings.TOKEN_TTL seconds: (row, key)."""
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user,
        digest=token_digest(key),
        expires_at=timezone.now() + timedelta(seconds=settings.TOKEN_TTL),
    )
    return token, key


def api_token_revoke(token: ApiToken):
    """Log out: this token stops working."""
    ApiToken.objects.filter(pk=token.pk).delete()


def api_tokens_revoke_all(user, *, keep: ApiToken | None = None) -> int:
    """Log out everywhere: every token of `user` (but `keep`) stops working."""
    tokens = ApiToken.objects.filter(user=user)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    deleted, _ = tokens.delete()
    return deleted


def user_password_set(user, new_password, *, keep_token: ApiToken | None = None):
    """Validate and set a new password; saving it revokes every API token but `keep_token`
    (User.save) and voids the user's sessions and password reset links."""
    try:
        password_validation.validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from exc
    user.set_password(new_password, keep_token=keep_token)
    user.save(update_fields=["password"])
    return user


def user_password_change(user, *, old_password, new_password, keep_token=None):
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["The current password is not right."]})
    return user_password_set(user, new_password, keep_token=keep_token)


def api_tokens_prune(*, now=None, deadline=None):
    """Delete tokens expired more than API_TOKEN_EXPIRED_RETENTION_DAYS ago, in chunks."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.API_TOKEN_EXPIRED_RETENTION_DAYS)
    return delete_in_chunks(ApiToken.objects.filter(expires_at__lt=cutoff), deadline=deadline)
