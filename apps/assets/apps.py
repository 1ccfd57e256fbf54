from django.apps import AppConfig

from apps.core.roles import Role

# Maintenance and managers keep the asset register.
WORK = ("view_asset", "add_asset", "change_asset", "view_assetevent")


class AssetsConfig(AppConfig):
    name = "apps.assets"
    label = "assets"
    role_permissions = {Role.MAINTENANCE: WORK, Role.MANAGER: WORK}
