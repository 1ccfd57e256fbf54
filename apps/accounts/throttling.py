"""Login throttling per client address and per account, with a growing lockout.

Failed logins are counted in the shared cache (Redis), so every web worker sees the same
counts. Once an account has LOGIN_FAILURES_PER_ACCOUNT failures (an address
LOGIN_FAILURES_PER_ADDRESS), it is locked for LOGIN_LOCKOUT_SECONDS, and every further
failure doubles the lockout up to LOGIN_LOCKOUT_MAX_SECONDS. A success clears the
account's count, not the address's (one good account must not unlock an address that is
guessing others). Unknown accounts are counted like real ones, so a lockout says nothing
about who has an account.

Every password login (the API's token login, the admin's login form) goes through
apps.accounts.backends.LockoutModelBackend, so a lock set by one holds in the other.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

from apps.core.errors import LoginLocked


def _key(what, kind, ident):
    return f"login:{what}:{kind}:{hashlib.sha256(ident.lower().encode()).hexdigest()}"


def _subjects(address, account):
    return (
        ("address", address, settings.LOGIN_FAILURES_PER_ADDRESS),
        ("account", account, settings.LOGIN_FAILURES_PER_ACCOUNT),
    )


def login_lock_check(*, address, account):
    """Raise LoginLocked (with the seconds to wait) while the address or account is locked."""
    now = time.time()
    keys = [_key("lock", kind, ident) for kind, ident, _ in _subjects(address, account)]
    locks = cache.get_many(keys)
    until = max(locks.values(), default=0)
    if until > now:
        raise LoginLocked(math.ceil(until - now))


def login_failure_record(*, address, account):
    """Count a failed login; lock the address or account once it has failed too often."""
    now = time.time()
    for kind, ident, allowed in _subjects(address, account):
        count_key = _key("failures", kind, ident)
        cache.add(count_key, 0, timeout=settings.LOGIN_FAILURE_WINDOW)
        try:
            failures = cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.set(count_key, failures := 1, timeout=settings.LOGIN_FAILURE_WINDOW)
        if failures >= allowed:
            seconds = min(
                settings.LOGIN_LOCKOUT_SECONDS * 2 ** (failures - allowed),
                settings.LOGIN_LOCKOUT_MAX_SECONDS,
            )
            cache.set(_key("lock", kind, ident), now + seconds, timeout=math.ceil(seconds))


def login_success_record(*, account):
    cache.delete_many([_key("failures", "account", account), _key("lock", "account", account)])
