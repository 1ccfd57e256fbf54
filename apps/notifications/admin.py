from django.contrib import admin

from apps.notifications.models import Notification, NotificationPreference, NotificationStatusChange


class StatusChangeInline(admin.TabularInline):
    model = NotificationStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("status", "at", "detail")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "channel",
        "category",
        "user",
        "address",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "channel", "category")
    search_fields = ("=id", "user__email", "address", "subject", "last_error")
    date_hierarchy = "created_at"
    inlines = [StatusChangeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "category", "channel", "enabled")
    list_filter = ("category", "channel", "enabled")
    search_fields = ("user__email",)
