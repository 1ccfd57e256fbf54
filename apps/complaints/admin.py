"""Staff use the admin: workflow steps go through the same services as the API (so the
same events are published); nothing here edits a complaint's fields directly."""

from django.contrib import admin

from apps.complaints import services
from apps.complaints.models import (
    Complaint,
    ComplaintComment,
    ComplaintStatus,
    ComplaintStatusChange,
)
from apps.core.admin import ReadOnlyInline, StatusChangeInline, WorkflowAdmin, transition_action
from apps.properties.selectors import scope_to_user


class ComplaintCommentInline(ReadOnlyInline):
    model = ComplaintComment
    fields = ("created_at", "author", "body")
    readonly_fields = fields


class ComplaintStatusChangeInline(StatusChangeInline):
    model = ComplaintStatusChange


@admin.register(Complaint)
class ComplaintAdmin(WorkflowAdmin):
    list_display = ("id", "subject", "category", "status", "property", "unit", "resident",
                    "created_at", "resolved_at", "rating", "version")  # fmt: skip
    list_filter = ("status", "category", "property", "rating")
    search_fields = ("=id", "subject", "description", "unit__code", "resident__username",
                     "resident__email", "property__name")  # fmt: skip
    inlines = [ComplaintCommentInline, ComplaintStatusChangeInline]
    actions = [
        transition_action(services.complaint_transition, "complaint", ComplaintStatus.IN_REVIEW,
                          "Start review of"),
        transition_action(services.complaint_transition, "complaint", ComplaintStatus.RESOLVED,
                          "Resolve"),
        transition_action(services.complaint_transition, "complaint", ComplaintStatus.CLOSED,
                          "Close"),
    ]  # fmt: skip

    def scoped(self, request, queryset):
        return scope_to_user(queryset, request.user, services.AREA)
