from django.apps import AppConfig

from apps.core.roles import Role

# Security (the desk) and managers: log arrivals (add), hand over and return (change).
WORK = ("view_parcel", "add_parcel", "change_parcel", "view_parcelstatuschange")


class FrontDeskConfig(AppConfig):
    name = "apps.front_desk"
    label = "front_desk"
    verbose_name = "Front desk"
    role_permissions = {Role.SECURITY: WORK, Role.MANAGER: WORK}
