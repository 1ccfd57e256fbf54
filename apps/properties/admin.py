from django.contrib import admin

from apps.core.admin import ScopedAdminMixin
from apps.properties.models import Property, StaffAssignment, Unit
from apps.properties.selectors import properties_visible_to


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0


class StaffAssignmentInline(admin.TabularInline):
    model = StaffAssignment
    extra = 0
    autocomplete_fields = ["staff"]


class PropertyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Staff see (and pick) only the properties they are assigned to."""

    property_path = "property"

    def scoped(self, request, queryset):
        visible = properties_visible_to(request.user).values("id")
        return queryset.filter(**{f"{self.property_path}__in": visible})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            if db_field.related_model is Property:
                kwargs["queryset"] = properties_visible_to(request.user)
            elif db_field.related_model is Unit:
                kwargs["queryset"] = Unit.objects.filter(
                    property__in=properties_visible_to(request.user)
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Property)
class PropertyAdmin(PropertyScopedAdmin):
    property_path = "pk"
    list_display = ("name", "code", "address", "created_at")
    search_fields = ("name", "code", "address")
    date_hierarchy = "created_at"
    inlines = [UnitInline, StaffAssignmentInline]


@admin.register(Unit)
class UnitAdmin(PropertyScopedAdmin):
    list_display = ("code", "property", "floor", "created_at")
    list_filter = (("property", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("code", "property__name")
    date_hierarchy = "created_at"


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(PropertyScopedAdmin):
    list_display = ("staff", "property", "role", "on_duty", "created_at")
    list_filter = (("property", admin.RelatedOnlyFieldListFilter), "role", "on_duty")
    search_fields = ("staff__username", "staff__email", "property__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ["staff"]
