from django.contrib import admin

from apps.reporting.models import AssetSnapshot, DailyPropertyStat


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DailyPropertyStat)
class DailyPropertyStatAdmin(ReadOnly):
    list_display = ("day", "property_id", "metric", "category", "urgency", "count")
    list_filter = ("metric", "day")
    date_hierarchy = "day"


@admin.register(AssetSnapshot)
class AssetSnapshotAdmin(ReadOnly):
    list_display = ("asset_id", "property_id", "category", "condition", "status", "cost", "version")
    list_filter = ("category", "condition", "status")
