"""The report dashboard: an admin page for managers and admins; its charts read the
report API (/api/v1/reports/...) with the signed-in session."""

from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from apps.core.roles import user_is_admin, user_is_manager_or_admin
from apps.properties.models import Property
from apps.properties.selectors import staff_property_ids

DEFAULT_PERIOD_DAYS = 180


def dashboard(request):
    if not user_is_manager_or_admin(request.user):
        raise PermissionDenied("Only managers and administrators may see the dashboard.")
    properties = Property.objects.order_by("name")
    if not user_is_admin(request.user):
        properties = properties.filter(id__in=staff_property_ids(request.user))
    today = timezone.localdate()
    context = {
        **admin.site.each_context(request),
        "title": "Reports dashboard",
        "properties": properties,
        "date_from": (today - timedelta(days=DEFAULT_PERIOD_DAYS)).isoformat(),
        "date_to": today.isoformat(),
    }
    return render(request, "reporting/dashboard.html", context)
