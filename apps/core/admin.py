"""Admin helpers shared by the domain apps."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.errors import Conflict

# What a service may refuse with; the admin reports it and carries on with the others.
DOMAIN_ERRORS = (Conflict, PermissionDenied, ValidationError)


def error_text(exc):
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def service_action(service, label, *, name=None):
    """An admin action that runs `service(obj, by=user)` for each selected object, so the
    admin takes the same workflow step (and publishes the same events) as the API."""

    def act(modeladmin, request, queryset):
        done = 0
        for obj in queryset:
            try:
                service(obj, by=request.user)
                done += 1
            except DOMAIN_ERRORS as exc:
                modeladmin.message_user(request, f"{obj}: {error_text(exc)}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{label}: {done} done.", messages.SUCCESS)

    act.__name__ = name or service.__name__
    return admin.action(description=f"{label} selected %(verbose_name_plural)s")(act)


def transition_action(transition, subject, to_status, label):
    """An admin action (named `<subject>_<to_status>`) that moves each selected object to
    `to_status` through the app's transition service, e.g. repair_transition(repair=...)."""

    def step(obj, *, by):
        return transition(**{subject: obj}, to_status=to_status, user=by)

    return service_action(step, label, name=f"{subject}_{to_status}")


class ScopedAdminMixin:
    """Staff in the admin see only what the API would show them."""

    def scoped(self, request, queryset):
        raise NotImplementedError

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else self.scoped(request, queryset)


class ReadOnlyInline(admin.TabularInline):
    """History shown under its object, never edited there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StatusChangeInline(ReadOnlyInline):
    """The rows of a StatusChange model (apps/core/workflow.py)."""

    fields = ("changed_at", "from_status", "to_status", "changed_by", "note")
    readonly_fields = fields


class WorkflowAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """An object that residents create through the API and that changes only by workflow
    steps (the admin's actions), never by editing its fields."""

    date_hierarchy = "created_at"
    list_select_related = ("property", "unit", "resident")
    ordering = ("-created_at",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
