"""Account confirmation tokens: signed, expiring and single-use.

A token carries the user id and a fingerprint of the account's state (active flag,
password hash, last login, email). Activating the account changes the fingerprint, so a
token works once; the signature's timestamp makes it expire after
settings.ACCOUNT_CONFIRMATION_MAX_AGE seconds.
"""

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

# The app it was born in; changing it would void every link already sent.
SALT = "apps.accounts.confirmation"


class InvalidToken(Exception):
    pass


def _fingerprint(user):
    last_login = "" if user.last_login is None else user.last_login.replace(microsecond=0)
    value = f"{user.pk}:{user.is_active}:{user.password}:{last_login}:{user.email}"
    return salted_hmac(SALT, value, algorithm="sha256").hexdigest()[:32]


def token_make(user):
    return signing.dumps({"u": user.pk, "f": _fingerprint(user)}, salt=SALT, compress=False)


def token_user_id(token):
    """The user id a token names, if its signature is good and it has not expired."""
    try:
        data = signing.loads(
            token, salt=SALT, max_age=getattr(settings, "ACCOUNT_CONFIRMATION_MAX_AGE", 259200)
        )
    except signing.SignatureExpired as exc:
        raise InvalidToken("This confirmation link has expired.") from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken("This confirmation link is not valid.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise InvalidToken("This confirmation link is not valid.")
    return data["u"], str(data.get("f", ""))


def token_matches(user, fingerprint):
    return constant_time_compare(_fingerprint(user), fingerprint)


# Invitation tokens: signed {invitation id, nonce}; the nonce is checked against the row,
# the row's status makes them single-use and the signature's age makes them expire.
INVITATION_SALT = "apps.registration.invitation"


def invitation_token_make(invitation):
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT)


def invitation_token_read(token):
    """(invitation id, nonce) of a well-signed, unexpired invitation token."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidToken("This invitation has expired; ask your manager for a new one.") from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken("This invitation link is not valid.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise InvalidToken("This invitation link is not valid.")
    return data["i"], str(data.get("n", ""))
