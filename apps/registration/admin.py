"""The user admin lives here, not in accounts: which users staff may see follows from
residencies and assignments (properties), and accounts imports no other domain app."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Q

from apps.accounts.models import User
from apps.core.admin import ScopedAdminMixin
from apps.properties.selectors import properties_visible_to


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "email", "first_name", "last_name", "phone")
    date_hierarchy = "date_joined"
    # What a user may do in the admin follows from the role alone (apps/accounts/backends.py),
    # so there are no staff flag, groups or per-user permissions to set here.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "phone")}),
        ("Access", {"fields": ("role", "is_active", "is_superuser")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        ("propmgmt", {"fields": ("email", "role", "phone")}),
    )

    def scoped(self, request, queryset):
        """Staff see the residents and staff of their own properties (and themselves)."""
        visible = properties_visible_to(request.user).values("id")
        return queryset.filter(
            Q(pk=request.user.pk)
            | Q(residencies__unit__property__in=visible)
            | Q(assignments__property__in=visible)
        ).distinct()
