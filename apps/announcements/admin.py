"""Managers announce here: write a draft (for their properties), then schedule, send now
or cancel it — workflow steps calling the same services as the API. Progress, the final
counts and each failed delivery with its reason show on the announcement's page."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join

from apps.announcements import selectors, services
from apps.announcements.models import (
    Announcement,
    AnnouncementStatus,
    AnnouncementStatusChange,
)
from apps.core.admin import (
    AdminDeletesMixin,
    ScopedAdminMixin,
    StatusChangeInline,
    WorkflowAdminMixin,
    WorkflowStep,
    counted,
)
from apps.core.workflow import STAFF

S = AnnouncementStatus
CREATE_FIELDS = (
    "properties",
    "audience",
    "floors",
    "units",
    "category",
    "title",
    "body",
    "by_email",
    "by_sms",
    "send_at",
)


class AnnouncementStatusChangeInline(StatusChangeInline):
    model = AnnouncementStatusChange


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(label="Send at", help_text="e.g. 2026-12-01 09:30 (local time)")

    def clean_send_at(self):
        send_at = self.cleaned_data["send_at"]
        if send_at <= timezone.now():
            raise forms.ValidationError("Pick a time in the future.")
        return send_at


def _available(to_status):
    return lambda a: to_status in services.ANNOUNCEMENT_WORKFLOW.allowed(a.status, STAFF)


@admin.register(Announcement)
class AnnouncementAdmin(AdminDeletesMixin, WorkflowAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "title",
        "category",
        "status",
        "audience",
        "send_at",
        "sent_at",
        "recipients_planned",
        "author",
        "created_at",
    )
    list_filter = ("status", "category", "audience")
    search_fields = ("title", "body")
    date_hierarchy = "created_at"
    list_select_related = ("author",)
    inlines = [AnnouncementStatusChangeInline]
    property_path = "properties"  # an announcement touching one of the manager's
    area = "management"
    workflow_steps = (
        WorkflowStep(
            name="schedule",
            label="Schedule",
            form=ScheduleForm,
            available=_available(S.SCHEDULED),
            run=lambda a, user, send_at: services.announcement_schedule(
                a, by=user, send_at=send_at
            ),
        ),
        WorkflowStep(
            name="send",
            label="Send now",
            available=_available(S.SENDING),
            run=lambda a, user: services.announcement_send_now(a, by=user),
        ),
        WorkflowStep(
            name="cancel",
            label="Cancel",
            available=_available(S.CANCELLED),
            run=lambda a, user: services.announcement_cancel(a, by=user),
        ),
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return CREATE_FIELDS
        recipients_planned, progress, failures = self.seen_by(request)
        return (
            *CREATE_FIELDS,
            "status",
            "author",
            recipients_planned,
            "sending_started_at",
            "sent_at",
            progress,
            failures,
        )

    def get_list_display(self, request):
        recipients_planned = self.seen_by(request)[0]
        return tuple(
            recipients_planned if name == "recipients_planned" else name
            for name in self.list_display
        )

    def seen_by(self, request):
        """Planned recipients, progress and failures of the part the viewer may see (an
        admin's announcement to two properties shows each manager only theirs, as the API
        does). Display methods get only the object, so these are made per request, once,
        so that the form's fields and its read-only fields are the same objects."""
        if not hasattr(request, "announcement_admin_seen_by"):
            viewer = request.user

            @admin.display(description="recipients planned")
            def recipients_planned(announcement):
                return selectors.announcement_recipients_planned(announcement, viewer)

            @admin.display(description="progress")
            def progress(announcement):
                counts = selectors.announcement_counts(announcement, viewer)
                return (
                    f"{counts['batches_done']}/{counts['batches']} batches; "
                    f"{counts['recipients']} recipients; deliveries: {counts['sent']} sent, "
                    f"{counts['pending']} pending, {counts['failed']} failed; "
                    f"{counts['read']} read; {counts['in_digest']} waiting in a digest; "
                    f"{counts['gone']} users gone (skipped)"
                )

            @admin.display(description="failed deliveries")
            def failures(announcement):
                rows = selectors.announcement_failures(announcement, viewer)
                if not rows:
                    return "none"
                return format_html_join(
                    "",
                    "<div>{} by {}: {}</div>",
                    ((row["username"], row["channel"], row["reason"]) for row in rows),
                )

            request.announcement_admin_seen_by = (recipients_planned, progress, failures)
        return request.announcement_admin_seen_by

    def get_readonly_fields(self, request, obj=None):
        # A written announcement changes only through its steps.
        return () if obj is None else self.get_fields(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = {field: form.cleaned_data[field] for field in CREATE_FIELDS}
        data["floors"] = data["floors"] or []
        obj.pk = services.announcement_create(by=request.user, **data).pk

    def save_related(self, request, form, formsets, change):
        """The service set the properties and units."""

    def index_summary(self, request):
        announcements = self.get_queryset(request)
        sending = announcements.filter(status=S.SENDING).count()
        scheduled = announcements.filter(status=S.SCHEDULED).count()
        url = reverse(
            "admin:announcements_announcement_changelist", current_app=self.admin_site.name
        )
        return [(f"{counted(sending, 'announcement')} sending, {scheduled} scheduled", url)]
