"""Customer service (and managers) work complaints here: the open complaints of their
properties, answered with comments and moved through the workflow by steps that call the
same services as the API (so the same events are published); nothing edits a complaint's
fields directly."""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.urls import reverse

from apps.complaints import services
from apps.complaints.models import (
    Complaint,
    ComplaintComment,
    ComplaintStatus,
    ComplaintStatusChange,
)
from apps.core.admin import (
    ApiFiledAdminMixin,
    DefaultChoiceFilter,
    NoteForm,
    ReadOnlyInline,
    ScopedAdminMixin,
    StatusChangeInline,
    WorkflowAdminMixin,
    WorkflowStep,
    counted,
)

S = ComplaintStatus
OPEN = (S.OPEN, S.IN_REVIEW)


class ComplaintCommentInline(ReadOnlyInline):
    model = ComplaintComment
    fields = ("created_at", "author", "body")
    readonly_fields = fields


class ComplaintStatusChangeInline(StatusChangeInline):
    model = ComplaintStatusChange


class ComplaintStateFilter(DefaultChoiceFilter):
    title = "state"
    parameter_name = "state"
    default = "open"
    choices_q = {
        "open": ("Open or in review", lambda: Q(status__in=OPEN)),
        "done": ("Resolved or closed", lambda: ~Q(status__in=OPEN)),
        "all": ("All", lambda: None),
    }


class CommentForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), label="Comment to the resident"
    )


def _step(to_status, label, form=None):
    return WorkflowStep(
        name=to_status,
        label=label,
        run=lambda complaint, user, note="": services.complaint_transition(
            complaint=complaint, to_status=to_status, user=user, note=note
        ),
        form=form,
        available=lambda complaint: (
            to_status in services.COMPLAINT_WORKFLOW.allowed(complaint.status)
        ),
    )


@admin.register(Complaint)
class ComplaintAdmin(ApiFiledAdminMixin, WorkflowAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "subject",
        "category",
        "status",
        "property",
        "unit",
        "resident",
        "created_at",
        "resolved_at",
        "rating",
    )
    list_display_links = ("id", "subject")
    list_filter = (ComplaintStateFilter, "status", "category", "property", "rating")
    search_fields = (
        "=id",
        "subject",
        "description",
        "unit__code",
        "resident__username",
        "resident__email",
        "property__name",
    )
    date_hierarchy = "created_at"
    list_select_related = ("property", "unit", "resident")
    ordering = ("created_at",)  # oldest first
    inlines = [ComplaintCommentInline, ComplaintStatusChangeInline]
    workflow_steps = (
        WorkflowStep(
            name="comment",
            label="Comment",
            run=lambda complaint, user, body: services.complaint_comment_add(
                complaint=complaint, author=user, body=body
            ),
            form=CommentForm,
            available=lambda complaint: complaint.status != S.CLOSED,
        ),
        _step(S.IN_REVIEW, "Start review"),
        _step(S.RESOLVED, "Resolve", NoteForm),
        _step(S.CLOSED, "Close"),
    )

    property_path = "property"
    area = services.AREA

    def index_summary(self, request):
        complaints = self.get_queryset(request)
        new = complaints.filter(status=S.OPEN).count()
        in_review = complaints.filter(status=S.IN_REVIEW).count()
        url = reverse("admin:complaints_complaint_changelist", current_app=self.admin_site.name)
        return [(f"{counted(new, 'new complaint')} open, {in_review} in review", url)]
