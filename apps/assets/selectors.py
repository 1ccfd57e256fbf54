"""Reads of the assets app."""

from apps.accounts.models import Role
from apps.assets.models import Asset
from apps.core.roles import user_is_admin
from apps.properties.selectors import scope_to_user


def assets_visible_to(user):
    """Assets of the properties where the user works on assets (residents: none)."""
    if not user.is_authenticated or (user.role == Role.RESIDENT and not user_is_admin(user)):
        return Asset.objects.none()
    return scope_to_user(Asset.objects.all(), user, "assets").select_related("property")
