"""Reads of the front desk, always scoped to what the user may see."""

from apps.accounts.models import Role
from apps.front_desk.models import Parcel, ParcelStatusChange
from apps.properties.selectors import scope_to_user

AREA = "front_desk"


def parcels_visible_to(user):
    """Residents: their own parcels, while they live in the parcel's unit; the desk
    (security) and managers: their properties' parcels; admins: all; other roles: none."""
    queryset = Parcel.objects.select_related("property", "unit", "resident")
    queryset = scope_to_user(queryset, user, AREA)
    if user.is_authenticated and user.role == Role.RESIDENT:
        queryset = queryset.filter(resident=user)
    return queryset


def parcel_history(parcel):
    return ParcelStatusChange.objects.filter(parcel=parcel).select_related("changed_by")
