from django.apps import AppConfig


class ProbeConfig(AppConfig):
    """Test-only consumers and their effects, for broker behaviour tests."""

    name = "tests.probe"
    label = "probe"
