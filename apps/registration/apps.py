from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    """How people join: registration and confirmation (later invitations and residency
    claims). Identity itself (User, Role, permissions) stays in accounts."""

    name = "apps.registration"
    label = "registration"
