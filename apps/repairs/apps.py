from django.apps import AppConfig

from apps.core.roles import Role

# Maintenance and managers work repairs in the admin (steps through the services).
WORK = ("view_repairrequest", "change_repairrequest", "view_repairstatuschange")


class RepairsConfig(AppConfig):
    name = "apps.repairs"
    label = "repairs"
    role_permissions = {Role.MAINTENANCE: WORK, Role.MANAGER: WORK}
