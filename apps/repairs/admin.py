"""Staff use the admin: workflow steps go through the same services as the API (so the
same events are published); nothing here edits a repair's fields directly."""

from django.contrib import admin

from apps.core.admin import StatusChangeInline, WorkflowAdmin, transition_action
from apps.properties.selectors import scope_to_user
from apps.repairs import services
from apps.repairs.models import RepairRequest, RepairStatus, RepairStatusChange


class RepairStatusChangeInline(StatusChangeInline):
    model = RepairStatusChange


@admin.register(RepairRequest)
class RepairRequestAdmin(WorkflowAdmin):
    list_display = ("id", "category", "urgency", "status", "property", "unit", "resident",
                    "created_at", "resolved_at", "version")  # fmt: skip
    list_filter = ("status", "urgency", "category", "property")
    search_fields = ("=id", "description", "unit__code", "resident__username",
                     "resident__email", "property__name")  # fmt: skip
    inlines = [RepairStatusChangeInline]
    actions = [
        transition_action(services.repair_transition, "repair", RepairStatus.ACKNOWLEDGED,
                          "Acknowledge"),
        transition_action(services.repair_transition, "repair", RepairStatus.SCHEDULED,
                          "Schedule"),
        transition_action(services.repair_transition, "repair", RepairStatus.IN_PROGRESS,
                          "Start work on"),
        transition_action(services.repair_transition, "repair", RepairStatus.RESOLVED,
                          "Resolve"),
    ]  # fmt: skip

    def scoped(self, request, queryset):
        return scope_to_user(queryset, request.user, services.AREA)
