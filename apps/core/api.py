"""API pieces shared by the workflow apps (repairs, complaints)."""

import django_filters
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import IsAuthenticated


def workflow_errors(noun):
    """The error answers of a workflow endpoint, for the OpenAPI schema."""
    return {
        400: OpenApiResponse(description="Invalid input; field messages."),
        403: OpenApiResponse(description="Your role may never do this."),
        404: OpenApiResponse(description=f"No such {noun} visible to you."),
        409: OpenApiResponse(description=f"Not allowed in the {noun}'s current state."),
    }


class WorkflowPermission(IsAuthenticated):
    """A role that may never take a view's action is refused (403) before any object is
    looked up (objects it may not see are 404 through the scoped queryset).

    The view sets `authorize = {action: check(user)}`, "*" for every action; a check raises
    PermissionDenied (the app's services define them, so the API and services agree).
    """

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        for key in ("*", view.action):
            check = view.authorize.get(key)
            if check is not None:
                check(request.user)
        return True


class WorkflowFilter(django_filters.FilterSet):
    """Filters every workflow list has; the app adds its status and categories."""

    # Plain ids: an unknown or invisible property filters to nothing, revealing nothing.
    property = django_filters.NumberFilter(field_name="property_id")
    unit = django_filters.NumberFilter(field_name="unit_id")
    created_from = django_filters.DateFilter(field_name="created_at__date", lookup_expr="gte")
    created_to = django_filters.DateFilter(field_name="created_at__date", lookup_expr="lte")
