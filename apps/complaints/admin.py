"""Staff use the admin: workflow steps go through the same services as the API (so the
same events are published); nothing here edits a complaint's fields directly."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.exceptions import APIException

from apps.complaints import services
from apps.complaints.models import (
    Complaint,
    ComplaintComment,
    ComplaintStatus,
    ComplaintStatusChange,
)
from apps.properties.selectors import scope_to_user


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ComplaintCommentInline(_ReadOnlyInline):
    model = ComplaintComment
    fields = ("created_at", "author", "body")
    readonly_fields = fields


class ComplaintStatusChangeInline(_ReadOnlyInline):
    model = ComplaintStatusChange
    fields = ("changed_at", "from_status", "to_status", "changed_by", "note")
    readonly_fields = fields


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
        for complaint in queryset:
            try:
                services.complaint_transition(
                    complaint=complaint, to_status=to_status, user=request.user
                )
                done += 1
            except (APIException, PermissionDenied, ValidationError) as exc:
                failed.append(f"#{complaint.pk}: {_error_text(exc)}")
        if done:
            modeladmin.message_user(request, f"{label}: {done} complaint(s).", messages.SUCCESS)
        for line in failed:
            modeladmin.message_user(request, line, messages.ERROR)

    act.__name__ = f"complaint_{to_status}"
    return admin.action(description=f"{label} selected complaints")(act)


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "category", "status", "property", "unit", "resident",
                    "created_at", "resolved_at", "rating", "version")  # fmt: skip
    list_filter = ("status", "category", "property", "rating")
    search_fields = ("=id", "subject", "description", "unit__code", "resident__username",
                     "resident__email", "property__name")  # fmt: skip
    date_hierarchy = "created_at"
    list_select_related = ("property", "unit", "resident")
    ordering = ("-created_at",)
    inlines = [ComplaintCommentInline, ComplaintStatusChangeInline]
    actions = [
        _transition_action(ComplaintStatus.IN_REVIEW, "Start review of"),
        _transition_action(ComplaintStatus.RESOLVED, "Resolve"),
        _transition_action(ComplaintStatus.CLOSED, "Close"),
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return scope_to_user(queryset, request.user, services.AREA)

    def get_readonly_fields(self, request, obj=None):
        # Residents file through the API and every change is a service call.
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
