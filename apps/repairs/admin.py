"""Maintenance (and managers) work repairs here: the open repairs of their properties,
urgent first then oldest, each moved on by a workflow step that calls the same service as
the API (so the same events are published); nothing edits a repair's fields directly."""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.core.admin import (
    ApiFiledAdminMixin,
    DefaultChoiceFilter,
    NoteForm,
    ScopedAdminMixin,
    StatusChangeInline,
    WorkflowAdminMixin,
    WorkflowStep,
    counted,
)
from apps.core.workflow import STAFF
from apps.repairs import services
from apps.repairs.models import RepairRequest, RepairStatus, RepairStatusChange, RepairUrgency

S = RepairStatus
DONE = (S.RESOLVED, S.CLOSED, S.CANCELLED)


class RepairStatusChangeInline(StatusChangeInline):
    model = RepairStatusChange


class RepairStateFilter(DefaultChoiceFilter):
    title = "state"
    parameter_name = "state"
    default = "open"
    choices_q = {
        "open": ("Open", lambda: ~Q(status__in=DONE)),
        "done": ("Resolved, closed or cancelled", lambda: Q(status__in=DONE)),
        "all": ("All", lambda: None),
    }


class ScheduleForm(NoteForm):
    when = forms.DateTimeField(
        label="Scheduled for", help_text="e.g. 2026-12-01 09:30 (local time)"
    )

    def clean_when(self):
        when = self.cleaned_data["when"]
        if when <= timezone.now():
            raise forms.ValidationError("Pick a time in the future.")
        return when


class ResolveForm(NoteForm):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), label="What was done"
    )


def _step(to_status, label, form=None):
    def run(repair, user, note="", when=None):
        if when is not None:
            note = f"Scheduled for {timezone.localtime(when):%Y-%m-%d %H:%M}. {note}".strip()
        return services.repair_transition(repair=repair, to_status=to_status, user=user, note=note)

    return WorkflowStep(
        name=to_status,
        label=label,
        run=run,
        form=form,
        available=lambda repair: (
            to_status in services.REPAIR_WORKFLOW.allowed(repair.status, STAFF)
        ),
    )


@admin.register(RepairRequest)
class RepairRequestAdmin(
    ApiFiledAdminMixin, WorkflowAdminMixin, ScopedAdminMixin, admin.ModelAdmin
):
    list_display = (
        "id",
        "urgency",
        "status",
        "category",
        "property",
        "unit",
        "resident",
        "created_at",
        "resolved_at",
    )
    list_display_links = ("id", "urgency")
    list_filter = (RepairStateFilter, "status", "urgency", "category", "property")
    search_fields = (
        "=id",
        "description",
        "unit__code",
        "resident__username",
        "resident__email",
        "property__name",
    )
    date_hierarchy = "created_at"
    list_select_related = ("property", "unit", "resident")
    # Urgent first (the urgency values sort by severity), then the oldest.
    ordering = ("-urgency", "created_at")
    inlines = [RepairStatusChangeInline]
    workflow_steps = (
        _step(S.ACKNOWLEDGED, "Acknowledge"),
        _step(S.SCHEDULED, "Schedule", ScheduleForm),
        _step(S.IN_PROGRESS, "Start work"),
        _step(S.RESOLVED, "Resolve", ResolveForm),
        _step(S.CLOSED, "Close"),
    )

    property_path = "property"
    area = services.AREA

    def index_summary(self, request):
        open_repairs = self.get_queryset(request).exclude(status__in=DONE)
        urgent = open_repairs.filter(urgency=RepairUrgency.URGENT).count()
        url = reverse("admin:repairs_repairrequest_changelist", current_app=self.admin_site.name)
        text = f"{counted(urgent, 'urgent repair')} open ({open_repairs.count()} open in all)"
        return [(text, url)]
