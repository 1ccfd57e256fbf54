"""Properties, units and staff assignments: managers' pages (area "management"), each
scoped by how its model reaches a property (apps/core/admin.py, ScopedAdminMixin)."""

from django.contrib import admin

from apps.core.admin import ScopedAdminMixin, ScopedInlineMixin
from apps.properties.models import Property, StaffAssignment, Unit

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
