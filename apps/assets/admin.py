from django.contrib import admin

from apps.assets.models import Asset, AssetEvent
from apps.assets.services import asset_create, asset_retire, asset_update
from apps.core.admin import ReadOnlyInline, ScopedAdminMixin, WorkflowAdminMixin, WorkflowStep


class AssetEventInline(ReadOnlyInline):
    model = AssetEvent


@admin.register(Asset)
class AssetAdmin(WorkflowAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "category", "property", "condition", "status", "cost", "warranty_end")
    list_filter = ("status", "category", "condition", "property")
    search_fields = ("name", "serial", "location", "property__name")
    date_hierarchy = "created_at"
    inlines = [AssetEventInline]
    property_path = "property"
    area = "assets"
    workflow_steps = (
        WorkflowStep(
            name="retire",
            label="Retire",
            run=lambda asset, user: asset_retire(asset, by=user),
            available=lambda asset: asset.status != Asset.Status.RETIRED,
        ),
    )
    readonly_fields = ("status", "version")

    def save_model(self, request, obj, form, change):
        """Edits go through the services too: version, history and event as in the API."""
        if change:
            fields = {f: form.cleaned_data[f] for f in form.changed_data if f != "property"}
            saved = asset_update(obj, by=request.user, **fields) if fields else obj
        else:
            data = {f: form.cleaned_data[f] for f in form.fields if f in form.cleaned_data}
            saved = asset_create(by=request.user, **data)
        obj.pk, obj.version = saved.pk, saved.version
