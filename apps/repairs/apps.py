from django.apps import AppConfig


class RepairsConfig(AppConfig):
    name = "apps.repairs"
    label = "repairs"
