from rest_framework.permissions import BasePermission

from apps.accounts.models import Role


def is_admin(user):
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


class IsAdminRole(BasePermission):
    message = "Only administrators may do this."

    def has_permission(self, request, view):
        return is_admin(request.user)
