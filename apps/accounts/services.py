"""Writes of the accounts app: API tokens and passwords."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiToken
from apps.accounts.throttling import login_failure_record, login_lock_check, login_success_record


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
    """Validate and set a new password, and revoke every API token but `keep_token`; the
    password change also voids the user's sessions and password reset links."""
    try:
        password_validation.validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        api_tokens_revoke_all(user, keep=keep_token)
    return user


def user_password_change(user, *, old_password, new_password, address, keep_token=None):
    """Set a new password given the current one. A wrong current password counts as a
    failed login of the account from `address` (a stolen token must not make a password
    oracle): raises LoginLocked while either is locked, the right password included."""
    subject = {"address": address, "account": user.username}
    login_lock_check(**subject)
    if not user.check_password(old_password):
        login_failure_record(**subject)
        raise ValidationError({"old_password": ["The current password is not right."]})
    login_success_record(account=user.username)
    return user_password_set(user, new_password, keep_token=keep_token)
