from django.contrib.auth.models import AbstractUser
from django.db import models, transaction

from apps.core.roles import STAFF_ROLES, Role

__all__ = ["STAFF_ROLES", "Role", "User"]


class User(AbstractUser):
    """A person who uses propmgmt; what they may see follows from `role`.

    A new password (or none) and deactivation sign the user out everywhere, here where the
    hash and the flag are saved: Django's admin forms and `changepassword` call
    `set_password` and `save()` themselves, past any service, so this is the one place
    every path meets. Every API token is deleted; browser sessions end with the hash
    (Django checks a session against it) or with deactivation (ModelBackend refuses an
    inactive user). A hash upgrade at login is not a change (Django clears `_password`).
    """

    email = models.EmailField("email address", unique=True)
    phone = models.CharField(max_length=32, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.RESIDENT)

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.get_full_name() or self.username

    _signed_out = False  # set_unusable_password() ran; set_password() leaves `_password`
    _token_kept = None  # the token of the request that changed the password, if any

    def set_password(self, raw_password, keep_token=None):
        """`keep_token`: the API token that asked for the change keeps working."""
        super().set_password(raw_password)
        self._token_kept = keep_token

    def set_unusable_password(self):
        super().set_unusable_password()
        self._signed_out = True

    def save(self, *args, **kwargs):
        sign_out = not self._state.adding and (
            self._password is not None or self._signed_out or not self.is_active
        )
        kept, self._signed_out, self._token_kept = self._token_kept, False, None
        if not sign_out:
            return super().save(*args, **kwargs)
        tokens = ApiToken.objects.filter(user=self)
        if self.is_active and kept is not None:
            tokens = tokens.exclude(pk=kept.pk)
        with transaction.atomic():  # the new password and the revocation, or neither
            super().save(*args, **kwargs)
            tokens.delete()
        return None

    @property
    def is_resident(self):
        return self.role == Role.RESIDENT


class ApiToken(models.Model):
    """An API token: many per user (one per login), each expiring and revocable.

    Only a SHA-256 digest of the key is stored, so a database leak reveals no usable
    token; the key is shown once, when the token is issued (apps/accounts/services.py)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self):
        return f"token of {self.user} until {self.expires_at:%Y-%m-%d %H:%M}"
