from django.contrib import admin

from apps.properties.models import Property, Residency, StaffAssignment, Unit


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0


class StaffAssignmentInline(admin.TabularInline):
    model = StaffAssignment
    extra = 0
    autocomplete_fields = ["staff"]


@admin.register(Property)
class PropertyAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "created_at")
    search_fields = ("name", "code", "address")
    date_hierarchy = "created_at"
    inlines = [UnitInline, StaffAssignmentInline]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "property", "floor")
    list_filter = ("property",)
    search_fields = ("code", "property__name")


@admin.register(Residency)
class ResidencyAdmin(admin.ModelAdmin):
    list_display = ("resident", "unit", "start_date", "end_date")
    list_filter = ("unit__property",)
    search_fields = ("resident__username", "resident__email", "unit__code")
    date_hierarchy = "start_date"
    autocomplete_fields = ["resident", "unit"]


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    list_display = ("staff", "property", "role", "on_duty")
    list_filter = ("property", "role", "on_duty")
    search_fields = ("staff__username", "staff__email", "property__name")
    autocomplete_fields = ["staff"]
