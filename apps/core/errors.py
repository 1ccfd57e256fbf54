"""Domain errors: services raise them, the API maps them to HTTP in one place
(`apps.core.api.exception_handler`) and the admin shows their message. Django's
PermissionDenied (403) and ValidationError (400) are the other two errors services raise.
A view never catches one of these to answer by hand (tests/architecture/test_access_policy.py).
"""


class DomainError(Exception):
    """A refusal whose `message` the user reads."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


class Conflict(DomainError):
    """A step not allowed in the object's current state (the API answers 409).

    `extra` travels with the message to the client, e.g. the allowed steps or the current
    version, so it can offer the right choice without another request.
    """

    def __init__(self, message, **extra):
        super().__init__(message)
        self.extra = extra


class Invalid(DomainError):
    """Input the service refuses after the serializer accepted its shape (a token that is
    not valid, a mandatory category switched off): the API answers 400 with
    `{field: [message]}`, `field` naming the request field (the service's argument)."""

    def __init__(self, message, *, field="detail"):
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    """Nothing by that name (the API answers 404 with the message)."""


class Unavailable(DomainError):
    """A service the request needs cannot be reached now (the API answers 503)."""


class LoginLocked(DomainError):
    """Too many failed logins for the account or the client's address (apps/accounts/
    throttling.py): the API answers 429 with Retry-After, the admin's login form says so."""

    def __init__(self, retry_after):
        super().__init__(f"locked for {retry_after}s")
        self.retry_after = retry_after
