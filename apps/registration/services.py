"""Writes of the registration app: registration and confirmation."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.notifications.services import notification_request
from apps.properties.models import Residency, Unit
from apps.registration import events, tokens


class ConfirmationError(Exception):
    pass


def user_confirmation_token_make(user) -> str:
    """A signed, expiring, single-use token that activates `user`."""
    return tokens.token_make(user)


def user_confirmation_url(user) -> str:
    """The absolute link (for the confirmation email) to the page that confirms `user`."""
    query = urlencode({"token": user_confirmation_token_make(user)})
    return f"{settings.SITE_URL.rstrip('/')}{reverse('account-confirm-page')}?{query}"


def user_register(
    *, email, password, unit: Unit, first_name="", last_name="", phone=""
) -> User | None:
    """Register an inactive resident of `unit`, or, when the email already has an account,
    publish `user.registration_repeated` instead and change nothing.

    Returns the new user, or None when the email was already registered; callers must
    answer both cases identically so nobody learns who is registered.
    """
    email = User.objects.normalize_email(email).strip().lower()
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=email).first()
        if existing is None:
            try:
                with transaction.atomic():
                    user = User(
                        username=email,
                        email=email,
                        first_name=first_name,
                        last_name=last_name,
                        phone=phone,
                        role=Role.RESIDENT,
                        is_active=False,
                    )
                    user.set_password(password)
                    user.save()
                    Residency.objects.create(
                        resident=user, unit=unit, start_date=timezone.localdate()
                    )
            except IntegrityError:
                # Registered concurrently (or the email is someone's username).
                existing = User.objects.filter(email__iexact=email).first() or (
                    User.objects.filter(username__iexact=email).first()
                )
                if existing is None:
                    raise
            else:
                events.user_registered(user)
                return user
        # Spend the same work as a new registration would.
        make_password(password)
        events.user_registration_repeated(existing)
        return None


def user_confirm(*, token) -> User:
    """Activate the account a confirmation token names; a token works once."""
    try:
        user_id, fingerprint = tokens.token_user_id(token)
    except tokens.InvalidToken as exc:
        raise ConfirmationError(str(exc)) from exc
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or user.is_active or not tokens.token_matches(user, fingerprint):
            raise ConfirmationError("This confirmation link is not valid or was already used.")
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


def user_confirmation_send(user_id):
    """Email an inactive user their activation link (the user_registration consumer)."""

    user = User.objects.get(id=user_id)
    if user.is_active:
        return None  # confirmed meanwhile: a late or replayed event sends nothing
    return notification_request(
        channel="email",
        template="account_confirmation",
        category="account",
        user=user,
        variables={
            "name": user.get_full_name() or user.email,
            "confirm_url": user_confirmation_url(user),
        },
    )


def user_account_exists_notice_send(user_id):
    """Tell an address's owner that someone tried to register it again."""

    user = User.objects.get(id=user_id)
    return notification_request(
        channel="email",
        template="account_exists",
        category="account",
        user=user,
        variables={
            "name": user.get_full_name() or user.email,
            "login_url": f"{settings.SITE_URL.rstrip('/')}/api/v1/docs/",
        },
    )
