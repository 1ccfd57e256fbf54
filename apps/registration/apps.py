from django.apps import AppConfig

from apps.core.roles import Role


class RegistrationConfig(AppConfig):
    """How people join: registration and confirmation, invitations, residency claims and
    their approval, password reset. Identity itself (User, Role, permissions) stays in
    accounts."""

    name = "apps.registration"
    label = "registration"
    # Managers invite residents to their units (change: the revoke action).
    role_permissions = {Role.MANAGER: ("view_invitation", "add_invitation", "change_invitation")}
