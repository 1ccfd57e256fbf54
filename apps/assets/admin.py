from django.contrib import admin

from apps.assets.models import Asset, AssetEvent
from apps.assets.services import asset_create, asset_retire, asset_update
from apps.core.admin import ReadOnlyInline, ScopedAdminMixin, service_action
from apps.properties.selectors import scope_to_user


class AssetEventInline(ReadOnlyInline):
    model = AssetEvent


@admin.register(Asset)
class AssetAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "category", "property", "condition", "status", "cost", "warranty_end")
    list_filter = ("status", "category", "condition", "property")
    search_fields = ("name", "serial", "location", "property__name")
    date_hierarchy = "created_at"
    inlines = [AssetEventInline]
    actions = [service_action(asset_retire, "Retire")]
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
