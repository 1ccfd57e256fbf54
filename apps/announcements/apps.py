from django.apps import AppConfig

from apps.core.roles import Role

# Managers write, schedule, send and cancel announcements from the admin (steps through
# the services), following their progress and why a delivery failed.
WORK = (
    "view_announcement",
    "add_announcement",
    "change_announcement",
    "view_announcementstatuschange",
)


class AnnouncementsConfig(AppConfig):
    name = "apps.announcements"
    label = "announcements"
    role_permissions = {Role.MANAGER: WORK}
