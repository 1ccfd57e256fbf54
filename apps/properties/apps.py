from django.apps import AppConfig

from apps.core.roles import Role


class PropertiesConfig(AppConfig):
    name = "apps.properties"
    label = "properties"
    # Managers look after their properties' units, residents and staff assignments.
    role_permissions = {
        Role.MANAGER: (
            "view_property",
            "change_property",
            "view_unit",
            "add_unit",
            "change_unit",
            "view_residency",
            "add_residency",
            "change_residency",
            "view_staffassignment",
            "add_staffassignment",
            "change_staffassignment",
            "delete_staffassignment",
            # Residents' move-out requests: approved or rejected by workflow steps.
            "view_moveoutrequest",
            "change_moveoutrequest",
            "view_moveoutstatuschange",
        ),
    }
