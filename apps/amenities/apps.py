from django.apps import AppConfig

from apps.core.roles import Role

# Managers keep their properties' amenities and closures, and work the bookings in the
# admin (approve, reject, no-show: steps through the services).
MANAGE = (
    "view_amenity",
    "add_amenity",
    "change_amenity",
    "delete_amenity",
    "view_amenityclosure",
    "add_amenityclosure",
    "view_reservation",
    "change_reservation",
    "view_reservationstatuschange",
)


class AmenitiesConfig(AppConfig):
    name = "apps.amenities"
    label = "amenities"
    role_permissions = {Role.MANAGER: MANAGE}
