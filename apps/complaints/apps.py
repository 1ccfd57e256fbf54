from django.apps import AppConfig

from apps.core.roles import Role

# Customer service and managers: comment on complaints and move them along.
WORK = (
    "view_complaint",
    "change_complaint",
    "view_complaintcomment",
    "view_complaintstatuschange",
)


class ComplaintsConfig(AppConfig):
    name = "apps.complaints"
    label = "complaints"
    role_permissions = {Role.CUSTOMER_SERVICE: WORK, Role.MANAGER: WORK}
