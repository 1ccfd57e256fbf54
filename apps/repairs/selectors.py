"""Reads of the repairs app, always scoped to what the user may see."""

from apps.properties.selectors import scope_to_user
from apps.repairs.models import RepairRequest, RepairStatusChange

AREA = "repairs"


def repair_requests_visible_to(user):
    """Residents: their current unit's repairs and the ones they filed (read only once
    they moved out); staff: their properties' (maintenance, managers); admins: all; other
    roles: none."""
    queryset = RepairRequest.objects.select_related("property", "unit", "resident")
    return scope_to_user(queryset, user, AREA, filed_by_field="resident")


def repair_history(repair):
    return RepairStatusChange.objects.filter(repair=repair).select_related("changed_by")
