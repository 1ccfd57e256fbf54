from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Project-wide operations: database creation and demo data."""

    name = "apps.core"
    label = "core"
