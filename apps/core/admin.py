"""The propmgmt admin site and the pieces the domain apps' admin classes share.

Who may enter the admin and what they may open follow from their role
(apps/core/roles.py, apps/accounts/backends.py); which objects they see, choose, filter
by, look up and save, from their properties: one rule, ScopedAdminMixin. Staff change
workflow objects only through workflow steps that call the same services as the API, so
the same events are published.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.filters import RelatedFieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import get_fields_from_path, unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth.forms import AuthenticationForm
from django.core import checks
from django.core.exceptions import (
    FieldError,
    ImproperlyConfigured,
    PermissionDenied,
    ValidationError,
)
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.module_loading import import_string

from apps.core.errors import Conflict, Invalid, LoginLocked
from apps.core.roles import user_is_admin, user_uses_admin

# What the services raise for a step the user may not take now (shown, never a 500).
WORKFLOW_ERRORS = (Conflict, Invalid, PermissionDenied, ValidationError)


def error_text(exc):
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def counted(n, singular, plural=None):
    """ "1 urgent repair", "3 urgent repairs"."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


class RoleAuthenticationForm(AdminAuthenticationForm):
    """The admin login: staff roles and admins may enter, residents may not. Passwords are
    checked under the API's login lockout (per account and client address, shared)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked": "Too many failed logins for this account or from this address; "
        "try again in %(minutes)s minute(s).",
    }

    def clean(self):
        try:
            return super().clean()
        except LoginLocked as exc:  # from the authentication backend
            minutes = math.ceil(exc.retry_after / 60)
            raise ValidationError(
                self.error_messages["locked"], code="locked", params={"minutes": minutes}
            ) from exc

    def confirm_login_allowed(self, user):
        AuthenticationForm.confirm_login_allowed(self, user)
        if not user_uses_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class PropmgmtAdminSite(admin.AdminSite):
    """Entry by role; the index lists what the role may open (its permissions) under a
    summary of the work waiting: each model admin's `index_summary(request)` gives
    (text, changelist URL) lines."""

    site_header = "propmgmt administration"
    site_title = "propmgmt"
    index_template = "admin/propmgmt_index.html"
    login_form = RoleAuthenticationForm

    def has_permission(self, request):
        return user_uses_admin(request.user)

    def index(self, request, extra_context=None):
        summary = [
            line
            for model_admin in self._registry.values()
            if hasattr(model_admin, "index_summary") and model_admin.has_view_permission(request)
            for line in model_admin.index_summary(request)
        ]
        return super().index(request, {**(extra_context or {}), "summary": summary})

    def autocomplete_view(self, request):
        return ScopedAutocompleteJsonView.as_view(admin_site=self)(request)


def properties_in_scope(user, area):
    """The properties `user` works at in `area` (settings.ADMIN_PROPERTY_SCOPE: the
    properties app's rule, which this app may not import)."""
    return import_string(settings.ADMIN_PROPERTY_SCOPE)(user, area)


class ScopedAdminMixin:
    """The one scoping rule of the admin: staff see, choose, filter by, look up and save
    only objects of the properties they work at (in the admin's `area`, e.g. "repairs";
    None: any property they work at), as the API shows them. Admins are not scoped.

    An admin class declares only how its model reaches a property: `property_path`, a
    lookup ("property", "unit__property", "pk" for the property itself) or a tuple of
    lookups any of which does (a user lives or works there). From it follow:
    - the changelist, change, history, delete pages and actions (get_queryset);
    - every foreign-key and many-to-many choice in its forms and inlines: objects of a
      model that a scoped admin declares, at the same properties (a model no scoped admin
      declares offers nothing). A forged POST choosing anything else fails the field's
      validation ("Select a valid choice"), so it is never saved;
    - every relation's list filter (ScopedRelatedFieldListFilter);
    - every autocomplete lookup (ScopedAutocompleteJsonView).
    """

    property_path: str | tuple[str, ...]
    area: str | None = None

    def _property_paths(self, property_path=None):
        paths = property_path or self.property_path
        return (paths,) if isinstance(paths, str) else paths

    def check(self, **kwargs):
        """`manage.py check` (and the test run) refuse a missing or unknown property_path."""
        errors = super().check(**kwargs)
        try:
            for path in self._property_paths():
                self.model._default_manager.filter(**{f"{path}__isnull": False})
        except (AttributeError, FieldError) as exc:
            errors.append(checks.Error(f"property_path: {exc}", obj=type(self), id="core.E001"))
        return errors

    def in_scope(self, request, queryset, property_path=None):
        """`queryset` limited to objects reaching, by `property_path` (this admin's by
        default), a property where the user works in this admin's area."""
        if user_is_admin(request.user):
            return queryset
        properties = properties_in_scope(request.user, self.area).values("pk")
        reaching = Q.create(
            [(f"{path}__in", properties) for path in self._property_paths(property_path)],
            connector=Q.OR,
        )
        return queryset.filter(pk__in=queryset.model._default_manager.filter(reaching).values("pk"))

    def related_in_scope(self, request, model, queryset=None):
        """What this admin may offer of `model` (in a form, a filter, a lookup)."""
        queryset = model._default_manager.all() if queryset is None else queryset
        if user_is_admin(request.user):
            return queryset
        declared = self.admin_site._registry.get(model)
        if not isinstance(declared, ScopedAdminMixin):
            return queryset.none()
        return self.in_scope(request, queryset, declared.property_path)

    def choices_in_scope(self, db_field, request, kwargs):
        """formfield_for_foreignkey/manytomany's kwargs with the choices in scope."""
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
        queryset = self.related_in_scope(request, db_field.related_model, queryset)
        return {**kwargs, "queryset": queryset}

    def get_queryset(self, request):
        return self.in_scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = self.choices_in_scope(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = self.choices_in_scope(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        return [self._scoped_filter(entry) for entry in super().get_list_filter(request)]

    def _scoped_filter(self, entry):
        path, filter_class = entry if isinstance(entry, tuple) else (entry, None)
        if not isinstance(path, str) or not get_fields_from_path(self.model, path)[-1].is_relation:
            return entry
        if filter_class is None or issubclass(filter_class, RelatedFieldListFilter):
            return (path, ScopedRelatedFieldListFilter)
        return entry

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            if not isinstance(inline, ScopedInlineMixin):
                raise ImproperlyConfigured(f"{type(inline).__name__} must be a ScopedInlineMixin")
        return inlines


class ScopedInlineMixin:
    """An inline of a scoped admin offers the choices its parent's admin offers."""

    def _parent_admin(self):
        return self.admin_site._registry[self.parent_model]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = self._parent_admin().choices_in_scope(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = self._parent_admin().choices_in_scope(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedRelatedFieldListFilter(RelatedOnlyFieldListFilter):
    """A relation's list filter: the related objects of the listed rows that the user may
    choose (ScopedAdminMixin.related_in_scope), never another property's."""

    def field_choices(self, field, request, model_admin):
        listed = model_admin.get_queryset(request).values(f"{self.field_path}__pk")
        choosable = model_admin.related_in_scope(request, field.related_model).values("pk")
        return field.get_choices(
            include_blank=False,
            limit_choices_to=Q(pk__in=listed) & Q(pk__in=choosable),
            ordering=self.field_admin_ordering(field, request, model_admin),
        )


class ScopedAutocompleteJsonView(AutocompleteJsonView):
    """/admin/autocomplete/ answers a user who may fill the source field's form (add or
    change its model) with what that form offers (ScopedAdminMixin.related_in_scope)."""

    def source_admin(self):
        return self.admin_site._registry.get(self.source_field.model)

    def has_perm(self, request, obj=None):
        source = self.source_admin()
        return (
            super().has_perm(request, obj)
            and source is not None
            and (source.has_add_permission(request) or source.has_change_permission(request))
        )

    def get_queryset(self):
        queryset = super().get_queryset()
        source = self.source_admin()
        if isinstance(source, ScopedAdminMixin):
            return source.related_in_scope(self.request, self.source_field.related_model, queryset)
        return queryset if user_is_admin(self.request.user) else queryset.none()


class ReadOnlyInline(ScopedInlineMixin, admin.TabularInline):
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


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A list filter with a preselected choice, e.g. only open repairs until the user picks
    "All". Subclasses set `choices_q = {value: (label, callable returning a Q or None)}`
    and `default`."""

    choices_q: dict[str, tuple[str, Callable[[], Q | None]]] = {}
    default = ""

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.choices_q.items()]

    def current(self):
        value = self.value()
        return value if value in self.choices_q else self.default

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.current() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        condition = self.choices_q[self.current()][1]()
        return queryset if condition is None else queryset.filter(condition)


class NoteForm(forms.Form):
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), label="Note"
    )


@dataclass(frozen=True)
class WorkflowStep:
    """A step staff take from the admin: a button on an object's page and a bulk action
    on the list, both calling `run(obj, user, **form data)`, i.e. the domain service.
    With a `form`, its fields are asked first (a note, a time...)."""

    name: str
    label: str
    run: Callable[..., Any]
    form: type[forms.Form] | None = None
    available: Callable[[Any], bool] = field(default=lambda obj: True)


class AdminDeletesMixin:
    """Only admins delete: staff change things through the domain's steps, and a delete
    (which skips them) is an administrator's repair."""

    def has_delete_permission(self, request, obj=None):
        return user_is_admin(request.user)


class ApiFiledAdminMixin(AdminDeletesMixin):
    """Objects residents create through the API and staff move only by workflow steps:
    nothing is added here and every field is read-only."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False


class DeskLoggedAdminMixin(AdminDeletesMixin):
    """Objects staff log on the add page (its form calls the service), then move by
    steps: read-only, with their inlines (the history), once they exist."""

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else [f.name for f in self.model._meta.fields]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []


class WorkflowAdminMixin:
    """Buttons on the object's page and bulk actions for `workflow_steps`."""

    workflow_steps: tuple[WorkflowStep, ...] = ()
    change_form_template = "admin/workflow_change_form.html"

    def get_urls(self):
        opts = self.model._meta
        view = self.admin_site.admin_view(self.workflow_step_view)
        name = f"{opts.app_label}_{opts.model_name}_step"
        return [path("<path:object_id>/step/<str:step>/", view, name=name), *super().get_urls()]

    def _step_url(self, obj, step):
        opts = self.model._meta
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_step",
            args=[obj.pk, step.name],
            current_app=self.admin_site.name,
        )

    def _change_url(self, obj):
        opts = self.model._meta
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        steps = []
        if obj is not None and self.has_change_permission(request, obj):
            steps = [
                (step.label, self._step_url(obj, step))
                for step in self.workflow_steps
                if step.available(obj)
            ]
        extra_context = {**(extra_context or {}), "workflow_steps": steps}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            plural = self.model._meta.verbose_name_plural
            for step in self.workflow_steps:
                name = f"step_{step.name}"
                actions[name] = (self._bulk_action(step), name, f"{step.label} selected {plural}")
        return actions

    def _bulk_action(self, step):
        def act(modeladmin, request, queryset):
            return self._workflow_page(request, step, list(queryset), bulk=True)

        return act

    def workflow_step_view(self, request, object_id, step):
        step = next((s for s in self.workflow_steps if s.name == step), None)
        obj = self.get_object(request, unquote(object_id))
        if step is None or obj is None:
            raise Http404("No such step or object.")
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return self._workflow_page(request, step, [obj], bulk=False)

    def _workflow_page(self, request, step, objects, *, bulk):
        """Ask the step's form (if any), then take the step for each object. A bulk step
        without a form is taken at once; a single one is confirmed on its page."""
        applying = request.method == "POST" and "workflow_apply" in request.POST
        form = step.form(request.POST if applying else None) if step.form else None
        if (applying or (bulk and form is None)) and (form is None or form.is_valid()):
            self._workflow_apply(request, step, objects, form.cleaned_data if form else {})
            return None if bulk else redirect(self._change_url(objects[0]))
        opts = self.model._meta
        what = (
            objects[0]
            if len(objects) == 1
            else counted(len(objects), opts.verbose_name, opts.verbose_name_plural)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{step.label}: {what}",
            "opts": opts,
            "step": step,
            "form": form,
            "objects": objects,
            "bulk": bulk,
            "action_name": f"step_{step.name}",
            "cancel_url": request.get_full_path() if bulk else self._change_url(objects[0]),
        }
        return TemplateResponse(request, "admin/workflow_step.html", context)

    def _workflow_apply(self, request, step, objects, data):
        done = 0
        for obj in objects:
            try:
                step.run(obj, request.user, **data)
            except WORKFLOW_ERRORS as exc:
                self.message_user(request, f"{obj}: {error_text(exc)}", messages.ERROR)
            else:
                done += 1
                self.log_change(request, obj, step.label)
        if done:
            self.message_user(request, f"{step.label}: {done} done.")
