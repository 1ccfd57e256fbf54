from django.contrib import admin

from apps.assets.models import Asset, AssetEvent
from apps.assets.services import asset_create, asset_retire, asset_update
from apps.core.admin import ScopedAdminMixin, WorkflowAdminMixin, WorkflowStep
from apps.properties.selectors import scope_to_user


class AssetEventInline(admin.TabularInline):
    model = AssetEvent
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Asset)
class AssetAdmin(WorkflowAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "category", "property", "condition", "status", "cost", "warranty_end")
    list_filter = ("status", "category", "condition", "property")
    search_fields = ("name", "serial", "location", "property__name")
    date_hierarchy = "created_at"
    inlines = [AssetEventInline]
    workflow_steps = (
        WorkflowStep(
            name="retire",
            label="Retire",
            run=lambda asset, user: asset_retire(asset, by=user),
            available=lambda asset: asset.status != Asset.Status.RETIRED,
        ),
    )
    readonly_fields = ("status", "version")

    def scoped(self, request, queryset):
        return scope_to_user(queryset, request.user, "assets")

    def save_model(self, request, obj, form, change):
        """Edits go through the services too: version, history and event as in the API."""
        if change:
            fields = {f: form.cleaned_data[f] for f in form.changed_data if f != "property"}
            saved = asset_update(obj, by=request.user, **fields) if fields else obj
        else:
            data = {f: form.cleaned_data[f] for f in form.fields if f in form.cleaned_data}
            saved = asset_create(by=request.user, **data)
        obj.pk, obj.version = saved.pk, saved.version
