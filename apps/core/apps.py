from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared mechanisms (the workflow engine, domain errors, admin and API pieces) and the
    database creation command."""

    name = "apps.core"
    label = "core"
