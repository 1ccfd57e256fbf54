from django.contrib import admin

from apps.core.admin import ReadOnlyInline, ScopedAdminMixin, service_action
from apps.properties.selectors import scope_to_user
from apps.visitors.models import Visitor, VisitorEvent
from apps.visitors.services import visitor_check_in, visitor_check_out


class VisitorEventInline(ReadOnlyInline):
    model = VisitorEvent


@admin.register(Visitor)
class VisitorAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "unit",
        "host",
        "status",
        "expected_arrival",
        "arrived_at",
        "departed_at",
    )
    list_filter = ("status", "walk_in", "property")
    search_fields = ("name", "vehicle_plate", "unit__code", "host__email")
    date_hierarchy = "expected_arrival"
    inlines = [VisitorEventInline]
    actions = [
        service_action(visitor_check_in, "Check in"),
        service_action(visitor_check_out, "Check out"),
    ]
    readonly_fields = ("status", "arrived_at", "departed_at", "checked_in_by", "checked_out_by")

    def scoped(self, request, queryset):
        return scope_to_user(queryset, request.user, "visitors")
