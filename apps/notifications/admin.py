from django.contrib import admin, messages

from apps.core.errors import Conflict
from apps.core.roles import user_is_admin
from apps.notifications.models import Notification, NotificationPreference, NotificationStatusChange
from apps.notifications.services import notifications_resend


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
    actions = ["resend_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return user_is_admin(request.user)

    @admin.action(
        description="Resend the selected notifications of unknown outcome (possible duplicate)",
        permissions=["resend"],
    )
    def resend_selected(self, request, queryset):
        try:
            resent = notifications_resend(
                list(queryset.values_list("id", flat=True)), by=request.user
            )
        except Conflict as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"{len(resent)} notification(s) will be sent once more.")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "category", "channel", "enabled")
    list_filter = ("category", "channel", "enabled")
    search_fields = ("user__email",)
