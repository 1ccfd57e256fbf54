"""The user admin lives here, not in accounts: which users staff may see follows from
residencies and assignments (properties), and accounts imports no other domain app. So
do residencies (approving a claim is a registration step) and invitations."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse

from apps.accounts.models import User
from apps.core.admin import WORKFLOW_ERRORS, ScopedAdminMixin, counted, error_text
from apps.core.local_time import local_date
from apps.properties.admin import MANAGEMENT
from apps.properties.models import Residency
from apps.registration.models import Invitation
from apps.registration.services import invitation_create, invitation_revoke, residency_decide


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    """Managers see (view only) the users of their properties: those who live there (a
    claim too) or work there. The same users are all a manager may choose as a resident or
    a staff member (residencies, staff assignments, their lookups): connecting a user to a
    property gives them rights there and shows the property's staff their email and phone,
    so it takes that user's own step (claiming a unit by its code, accepting an invitation,
    which proves the email is theirs) or an admin — never a manager's pick among every
    account, nor a lookup by email, which would tell whether an address has an account.
    Someone new is invited (Invitations)."""

    property_path = ("residencies__unit__property", "assignments__property")
    area = MANAGEMENT
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


def _each(model_admin, request, queryset, step, done):
    """Apply a service `step` to each selected object; report successes and refusals."""
    succeeded = 0
    for obj in queryset:
        try:
            step(obj)
        except WORKFLOW_ERRORS as exc:
            model_admin.message_user(request, f"{obj}: {error_text(exc)}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        done = f"{counted(succeeded, 'residency', 'residencies')} {done}."
        model_admin.message_user(request, done)


@admin.register(Residency)
class ResidencyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Residencies; pending claims are approved or rejected with the actions (the same
    service as the API, so the resident is told). The resident is one of the users of the
    manager's properties (UserAdmin says why)."""

    property_path = "unit__property"
    area = MANAGEMENT
    list_display = ("resident", "unit", "status", "start_date", "end_date", "decided_by")
    list_filter = ("status", "unit__property")
    search_fields = ("resident__username", "resident__email", "unit__code")
    date_hierarchy = "start_date"
    autocomplete_fields = ["resident", "unit"]
    readonly_fields = ("status", "decided_by", "decided_at")
    actions = ["approve", "reject"]

    def index_summary(self, request):
        pending = self.get_queryset(request).filter(status=Residency.Status.PENDING).count()
        if not pending:
            return []  # nothing waiting: no line
        url = reverse("admin:properties_residency_changelist", current_app=self.admin_site.name)
        return [
            (f"{counted(pending, 'residency claim')} to approve", f"{url}?status__exact=pending")
        ]

    @admin.action(description="Approve the selected claims", permissions=["change"])
    def approve(self, request, queryset):
        _each(self, request, queryset, self._decide(request, approve=True), "approved")

    @admin.action(description="Reject the selected claims", permissions=["change"])
    def reject(self, request, queryset):
        _each(self, request, queryset, self._decide(request, approve=False), "rejected")

    @staticmethod
    def _decide(request, *, approve):
        return lambda residency: residency_decide(residency, by=request.user, approve=approve)


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ("unit", "email", "start_date")

    def clean(self):
        cleaned = super().clean()
        start_date, unit = cleaned.get("start_date"), cleaned.get("unit")
        if start_date and unit and start_date < local_date(unit.property.time_zone):
            self.add_error("start_date", "A planned move-in cannot be in the past.")
        return cleaned


@admin.register(Invitation)
class InvitationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A manager invites someone to a unit, from a planned move-in day or from the day
    they accept: saving the form sends the invitation email."""

    property_path = "unit__property"
    area = MANAGEMENT
    list_display = (
        "email",
        "unit",
        "start_date",
        "status",
        "invited_by",
        "created_at",
        "expires_at",
    )
    list_filter = ("status", "unit__property")
    search_fields = ("email", "unit__code")
    date_hierarchy = "created_at"
    autocomplete_fields = ["unit"]
    form = InvitationForm
    fields = ("unit", "email", "start_date")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.fields

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        obj.pk = invitation_create(
            by=request.user, unit=obj.unit, email=obj.email, start_date=obj.start_date
        ).pk

    @admin.action(description="Revoke the selected invitations", permissions=["change"])
    def revoke(self, request, queryset):
        for invitation in queryset:
            try:
                invitation_revoke(invitation, by=request.user)
            except WORKFLOW_ERRORS as exc:
                self.message_user(request, f"{invitation}: {error_text(exc)}", messages.ERROR)
