"""Staff use the admin: workflow steps go through the same services as the API (so the
same events are published); nothing here edits a repair's fields directly."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.exceptions import APIException

from apps.properties.selectors import scope_to_user
from apps.repairs import services
from apps.repairs.models import RepairRequest, RepairStatus, RepairStatusChange


class RepairStatusChangeInline(admin.TabularInline):
    model = RepairStatusChange
    extra = 0
    can_delete = False
    fields = ("changed_at", "from_status", "to_status", "changed_by", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _error_text(exc):
    if isinstance(exc, APIException):
        detail = exc.detail
        return str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def _transition_action(to_status, label):
    def act(modeladmin, request, queryset):
        done, failed = 0, []
        for repair in queryset:
            try:
                services.repair_transition(repair=repair, to_status=to_status, user=request.user)
                done += 1
            except (APIException, PermissionDenied, ValidationError) as exc:
                failed.append(f"#{repair.pk}: {_error_text(exc)}")
        if done:
            modeladmin.message_user(request, f"{label}: {done} repair(s).", messages.SUCCESS)
        for line in failed:
            modeladmin.message_user(request, line, messages.ERROR)

    act.__name__ = f"repair_{to_status}"
    return admin.action(description=f"{label} selected repairs")(act)


@admin.register(RepairRequest)
class RepairRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "category", "urgency", "status", "property", "unit", "resident",
                    "created_at", "resolved_at", "version")  # fmt: skip
    list_filter = ("status", "urgency", "category", "property")
    search_fields = ("=id", "description", "unit__code", "resident__username",
                     "resident__email", "property__name")  # fmt: skip
    date_hierarchy = "created_at"
    list_select_related = ("property", "unit", "resident")
    ordering = ("-created_at",)
    inlines = [RepairStatusChangeInline]
    actions = [
        _transition_action(RepairStatus.ACKNOWLEDGED, "Acknowledge"),
        _transition_action(RepairStatus.SCHEDULED, "Schedule"),
        _transition_action(RepairStatus.IN_PROGRESS, "Start work on"),
        _transition_action(RepairStatus.RESOLVED, "Resolve"),
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return scope_to_user(queryset, request.user, services.AREA)

    def get_readonly_fields(self, request, obj=None):
        # Residents submit through the API and every change is a workflow step.
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
