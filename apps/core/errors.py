"""Domain errors: services raise them, the API maps them to HTTP (propmgmt/api.py) and
the admin shows their message. Django's PermissionDenied (403) and ValidationError (400)
are the other two errors services raise."""


class Conflict(Exception):
    """A step not allowed in the object's current state (the API answers 409).

    `extra` travels with the message to the client, e.g. the allowed steps or the current
    version, so it can offer the right choice without another request.
    """

    def __init__(self, message, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra

    def __str__(self):
        return self.message


class LoginLocked(Exception):
    """Too many failed logins for the account or the client's address (apps/accounts/
    throttling.py): the API answers 429 with Retry-After, the admin's login form says so."""

    def __init__(self, retry_after):
        super().__init__(f"locked for {retry_after}s")
        self.retry_after = retry_after
