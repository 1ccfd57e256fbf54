"""Reads of the complaints app, always scoped to what the user may see."""

from apps.accounts.models import Role
from apps.complaints.models import Complaint, ComplaintComment
from apps.core.roles import user_is_admin
from apps.properties.selectors import scope_to_user

AREA = "complaints"


def complaints_visible_to(user):
    """Residents: the complaints they filed (read only once they moved out); customer
    service and managers: their properties'; admins: all; other roles: none."""
    queryset = scope_to_user(
        Complaint.objects.select_related("property", "unit", "resident"),
        user,
        AREA,
        filed_by_field="resident",
    )
    if user.role == Role.RESIDENT and not user_is_admin(user):
        # A complaint is personal: flatmates do not see each other's.
        queryset = queryset.filter(resident=user)
    return queryset


def complaint_comments(complaint):
    return ComplaintComment.objects.filter(complaint=complaint).select_related("author")
