"""Properties, units and staff assignments: managers' pages (area "management"), each
scoped by how its model reaches a property (apps/core/admin.py, ScopedAdminMixin)."""

from django.contrib import admin
from django.urls import reverse

from apps.core.admin import (
    ApiFiledAdminMixin,
    NoteForm,
    ScopedAdminMixin,
    ScopedInlineMixin,
    StatusChangeInline,
    WorkflowAdminMixin,
    WorkflowStep,
    counted,
)
from apps.core.workflow import STAFF
from apps.properties import services
from apps.properties.models import (
    MoveOutRequest,
    MoveOutStatus,
    MoveOutStatusChange,
    Property,
    StaffAssignment,
    Unit,
)

MANAGEMENT = "management"


class UnitInline(ScopedInlineMixin, admin.TabularInline):
    model = Unit
    extra = 0


class StaffAssignmentInline(ScopedInlineMixin, admin.TabularInline):
    model = StaffAssignment
    extra = 0
    autocomplete_fields = ["staff"]


@admin.register(Property)
class PropertyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    property_path = "pk"
    area = MANAGEMENT
    list_display = ("name", "code", "address", "created_at")
    search_fields = ("name", "code", "address")
    date_hierarchy = "created_at"
    inlines = [UnitInline, StaffAssignmentInline]


@admin.register(Unit)
class UnitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    property_path = "property"
    area = MANAGEMENT
    list_display = ("code", "property", "floor", "created_at")
    list_filter = ("property",)
    search_fields = ("code", "property__name")
    date_hierarchy = "created_at"


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Staff are chosen among the users already at the manager's properties (see
    UserAdmin, apps/registration/admin.py); an admin creates new staff accounts."""

    property_path = "property"
    area = MANAGEMENT
    list_display = ("staff", "property", "role", "on_duty", "created_at")
    list_filter = ("property", "role", "on_duty")
    search_fields = ("staff__username", "staff__email", "property__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ["staff"]


class MoveOutStatusChangeInline(StatusChangeInline):
    model = MoveOutStatusChange


def _move_out_step(to_status, label, form=None):
    def run(move_out, user, note=""):
        return services.move_out_transition(
            move_out=move_out, to_status=to_status, user=user, note=note
        )

    return WorkflowStep(
        name=to_status,
        label=label,
        run=run,
        form=form,
        available=lambda m: to_status in services.MOVE_OUT_WORKFLOW.allowed(m.status, STAFF),
    )


@admin.register(MoveOutRequest)
class MoveOutRequestAdmin(
    ApiFiledAdminMixin, WorkflowAdminMixin, ScopedAdminMixin, admin.ModelAdmin
):
    """Residents ask to move out in the API; managers of the property approve (the day
    becomes the residency's last: the move job ends it after that day) or reject here,
    through the same service. A manager may still plan a residency's end directly
    (Residencies)."""

    list_display = ("resident", "unit", "end_date", "status", "created_at")
    list_filter = ("status", "property")
    search_fields = ("resident__username", "resident__email", "unit__code")
    date_hierarchy = "end_date"
    list_select_related = ("resident", "unit")
    ordering = ("status", "end_date")
    inlines = [MoveOutStatusChangeInline]
    workflow_steps = (
        _move_out_step(MoveOutStatus.APPROVED, "Approve"),
        _move_out_step(MoveOutStatus.REJECTED, "Reject", NoteForm),
    )
    property_path = "property"
    area = MANAGEMENT

    def index_summary(self, request):
        waiting = self.get_queryset(request).filter(status=MoveOutStatus.REQUESTED).count()
        if not waiting:
            return []
        url = reverse(
            "admin:properties_moveoutrequest_changelist", current_app=self.admin_site.name
        )
        return [
            (f"{counted(waiting, 'move-out request')} to decide", f"{url}?status__exact=requested")
        ]
