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
from django.contrib.auth.backends import BaseBackend

from apps.core.roles import Role


@cache
def role_permissions(role) -> frozenset[str]:
    """Every permission ("app_label.codename") that the installed apps grant `role`."""
    return frozenset(
        f"{config.label}.{codename}"
        for config in apps.get_app_configs()
        for codename in getattr(config, "role_permissions", {}).get(role, ())
    )


def _is_admin(user_obj):
    return user_obj.is_active and getattr(user_obj, "role", None) == Role.ADMIN


class RolePermissionBackend(BaseBackend):
    """Authenticates nobody (ModelBackend does); only answers permission checks."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(role_permissions(user_obj.role))

    def has_perm(self, user_obj, perm, obj=None):
        return _is_admin(user_obj) or super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        prefix = f"{app_label}."
        return _is_admin(user_obj) or any(
            perm.startswith(prefix) for perm in self.get_all_permissions(user_obj)
        )
