"""Reads of the registration app."""

from apps.properties.selectors import properties_visible_to, resident_current_unit


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
