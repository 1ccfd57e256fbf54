from django.apps import AppConfig

from apps.core.roles import Role

# Security and managers: check in, check out, register walk-ins (add).
WORK = ("view_visitor", "add_visitor", "change_visitor", "view_visitorstatuschange")


class VisitorsConfig(AppConfig):
    name = "apps.visitors"
    label = "visitors"
    role_permissions = {Role.SECURITY: WORK, Role.MANAGER: WORK}
