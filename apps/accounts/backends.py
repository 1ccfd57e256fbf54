"""Model permissions that follow from a user's role, with nothing to assign by hand.

Each app's AppConfig declares what each role may do with that app's models, e.g.

    role_permissions = {Role.MAINTENANCE: ("view_repairrequest", "change_repairrequest")}

and this backend grants a user the permissions of their current role on every check.
A role change therefore applies from the user's next request, and a fresh database needs
no groups or data migration. Admins hold every permission. Which objects a user sees is
a separate rule: the admin classes scope their querysets to the user's properties.
"""

from functools import cache

from django.apps import apps
from django.contrib.auth.backends import BaseBackend, ModelBackend

from apps.accounts.selectors import user_username_for_login
from apps.accounts.throttling import login_failure_record, login_lock_check, login_success_record
from apps.core.client import client_identity
from apps.core.roles import user_is_admin


@cache
def role_permissions(role) -> frozenset[str]:
    """Every permission ("app_label.codename") that the installed apps grant `role`."""
    return frozenset(
        f"{config.label}.{codename}"
        for config in apps.get_app_configs()
        for codename in getattr(config, "role_permissions", {}).get(role, ())
    )


class LockoutModelBackend(ModelBackend):
    """Passwords, as ModelBackend, under the login lockout: raises LoginLocked while the
    account or the client's address is locked, counts a wrong password against both and
    clears the account's count on success. The login may be a username or an email."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        account = user_username_for_login(username)
        # A login without a request (a management command) counts under one empty address.
        subject = {"address": client_identity(request) if request else "", "account": account}
        login_lock_check(**subject)
        user = super().authenticate(request, username=account, password=password, **kwargs)
        if user is None:
            login_failure_record(**subject)
        else:
            login_success_record(account=account)
        return user


class RolePermissionBackend(BaseBackend):
    """Authenticates nobody (ModelBackend does); only answers permission checks."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(role_permissions(user_obj.role))

    def has_perm(self, user_obj, perm, obj=None):
        return (user_obj.is_active and user_is_admin(user_obj)) or super().has_perm(
            user_obj, perm, obj
        )

    def has_module_perms(self, user_obj, app_label):
        prefix = f"{app_label}."
        return (user_obj.is_active and user_is_admin(user_obj)) or any(
            perm.startswith(prefix) for perm in self.get_all_permissions(user_obj)
        )
