"""Reads of the registration app."""

from apps.properties.models import Residency
from apps.properties.selectors import (
    properties_managed_by,
    properties_visible_to,
    resident_current_unit,
)
from apps.registration.models import Invitation


def user_profile(user):
    unit = resident_current_unit(user) if user.is_resident else None
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "role": user.role,
        "unit": unit,
        "property_ids": list(properties_visible_to(user).values_list("id", flat=True)),
    }


def residencies_managed_by(user):
    """Residencies (claims among them) of the properties `user` manages (admins: all)."""
    return Residency.objects.filter(unit__property__in=properties_managed_by(user))


def invitations_managed_by(user):
    return Invitation.objects.filter(unit__property__in=properties_managed_by(user))
