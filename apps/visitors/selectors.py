"""Reads of the visitors app."""

from apps.properties.selectors import scope_to_user
from apps.visitors.models import Visitor


def visitors_visible_to(user):
    """Residents: their unit's visitors; security and managers: their properties'; admins:
    all; other staff: none."""
    return scope_to_user(Visitor.objects.all(), user, "visitors").select_related(
        "unit", "property", "host"
    )
