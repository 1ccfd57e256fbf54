"""Security (and managers) work the gate here: today's expected visitors and those on site,
check in and out, register walk-ins; overstays stand out. Every change goes through the
visitor services, as in the API."""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from apps.core.admin import (
    DefaultChoiceFilter,
    DeskLoggedAdminMixin,
    ScopedAdminMixin,
    StatusChangeInline,
    WorkflowAdminMixin,
    WorkflowStep,
    counted,
)
from apps.core.local_time import property_today_q
from apps.visitors import services
from apps.visitors.models import Visitor, VisitorStatus, VisitorStatusChange

S = VisitorStatus

# A visitor still on site this long after arriving is shown as overstaying.
OVERSTAY_AFTER = timedelta(hours=8)


def on_site_q():
    return Q(status=S.ARRIVED)


def overstaying_q():
    return on_site_q() & Q(arrived_at__lt=timezone.now() - OVERSTAY_AFTER)


def expected_today_q():
    return Q(status=S.EXPECTED) & property_today_q("expected_arrival")


class VisitorStatusChangeInline(StatusChangeInline):
    model = VisitorStatusChange


class VisitorDayFilter(DefaultChoiceFilter):
    title = "when"
    parameter_name = "when"
    default = "today"
    choices_q = {
        "today": ("Expected today or on site", lambda: expected_today_q() | on_site_q()),
        "on_site": ("On site", on_site_q),
        "overstaying": ("Overstaying", overstaying_q),
        "all": ("All", lambda: None),
    }


class WalkInForm(forms.ModelForm):
    class Meta:
        model = Visitor
        fields = ("unit", "name", "purpose", "vehicle_plate")


def _step(action, to_status, label, service):
    return WorkflowStep(
        name=action,
        label=label,
        run=lambda visitor, user: service(visitor, by=user),
        available=lambda visitor: to_status in services.VISITOR_WORKFLOW.allowed(visitor.status),
    )


@admin.register(Visitor)
class VisitorAdmin(DeskLoggedAdminMixin, WorkflowAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "unit",
        "host",
        "status",
        "expected_arrival",
        "arrived_at",
        "on_site_for",
        "departed_at",
        "walk_in",
    )
    list_filter = (VisitorDayFilter, "status", "walk_in", "property")
    search_fields = ("name", "vehicle_plate", "unit__code", "host__email")
    date_hierarchy = "expected_arrival"
    list_select_related = ("unit", "host")
    # On site first ("arrived" sorts first), then by expected time.
    ordering = ("status", "expected_arrival")
    inlines = [VisitorStatusChangeInline]
    workflow_steps = (
        _step("check_in", S.ARRIVED, "Check in", services.visitor_check_in),
        _step("check_out", S.DEPARTED, "Check out", services.visitor_check_out),
    )

    property_path = "property"
    area = services.AREA

    @admin.display(description="on site for")
    def on_site_for(self, visitor):
        if visitor.status != S.ARRIVED or visitor.arrived_at is None:
            return ""
        stay = timesince(visitor.arrived_at)
        if timezone.now() - visitor.arrived_at > OVERSTAY_AFTER:
            return format_html(
                '<strong class="overstay" style="color:#ba2121">{} – overstaying</strong>', stay
            )
        return stay

    # Adding a visitor here registers a walk-in (visitor_walk_in); an existing visitor
    # changes only by checking in or out.
    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = WalkInForm
            kwargs["fields"] = WalkInForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return WalkInForm.Meta.fields if obj is None else super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        visitor = services.visitor_walk_in(
            by=request.user,
            unit=data["unit"],
            name=data["name"],
            purpose=data["purpose"],
            vehicle_plate=data["vehicle_plate"],
        )
        obj.pk = visitor.pk

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "title": "Register a walk-in visitor"}
        return super().add_view(request, form_url, extra_context)

    def index_summary(self, request):
        visitors = self.get_queryset(request)
        on_site = visitors.filter(on_site_q()).count()
        overstaying = visitors.filter(overstaying_q()).count()
        expected = visitors.filter(expected_today_q()).count()
        url = reverse("admin:visitors_visitor_changelist", current_app=self.admin_site.name)
        text = f"{counted(on_site, 'visitor')} on site"
        if overstaying:
            text += f" ({overstaying} overstaying)"
        return [(f"{text}, {expected} more expected today", url)]
