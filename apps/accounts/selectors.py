"""Reads of the accounts app."""

from apps.accounts.models import User


def user_username_for_login(login):
    """The username to authenticate with for a login that is a username or an email."""
    login = (login or "").strip()
    if "@" in login:
        user = User.objects.filter(email__iexact=login).only("username").first()
        if user is not None:
            return user.username
    return login
