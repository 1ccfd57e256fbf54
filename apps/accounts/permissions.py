from rest_framework.permissions import BasePermission

from apps.accounts.models import Role


def is_admin(user):
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


class IsAdminRole(BasePermission):
    message = "Only administrators may do this."

    def has_permission(self, request, view):
        return is_admin(request.user)


def is_manager_or_admin(user):
    return bool(user and user.is_authenticated and (is_admin(user) or user.role == Role.MANAGER))


class RolePermission(BasePermission):
    """Per-action role rules: a role that may never do an action gets 403 before any object
    is looked up (objects it may not see are 404 through the scoped queryset).

    The view sets `role_rules = {action: callable(user) -> bool}`; "*" is the fallback.
    """

    message = "Your role may not do this."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        rules = getattr(view, "role_rules", {})
        action = getattr(view, "action", None) or request.method.lower()
        rule = rules.get(action, rules.get("*"))
        return True if rule is None else bool(rule(user))
