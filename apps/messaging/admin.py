from urllib.parse import urlencode

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from kombu.exceptions import OperationalError

import celeryconfig
from apps.core.roles import user_is_admin
from apps.messaging.deadletters import (
    DeadLetterError,
    dead_letter_purge,
    dead_letter_replay,
    dead_letters_list,
)
from apps.messaging.models import DeadLetterReplay, MessageFailure, OutboxMessage
from apps.messaging.services import outbox_unpark


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """The outbox; parked rows (refused by the broker too often) are retried from here
    once their cause is fixed."""

    list_display = (
        "id",
        "event",
        "task_name",
        "queue",
        "created_at",
        "not_before",
        "published_at",
        "refusals",
        "parked_at",
        "last_error",
    )
    list_filter = (
        ("parked_at", admin.EmptyFieldListFilter),
        ("published_at", admin.EmptyFieldListFilter),
        "event",
        "queue",
    )
    search_fields = ("id", "correlation_id", "task_name")
    date_hierarchy = "created_at"
    actions = ["outbox_unpark_selected"]

    def has_unpark_permission(self, request):
        return user_is_admin(request.user)

    @admin.action(description="Retry the selected parked rows now", permissions=["unpark"])
    def outbox_unpark_selected(self, request, queryset):
        count = outbox_unpark(list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} parked row(s) will be published on the next sweep.")


@admin.register(MessageFailure)
class MessageFailureAdmin(ReadOnlyAdmin):
    list_display = ("message_id", "consumer", "queue", "attempts", "failed_at", "reason")
    list_filter = ("queue", "consumer")
    search_fields = ("message_id", "correlation_id", "reason")
    date_hierarchy = "failed_at"


@admin.register(DeadLetterReplay)
class DeadLetterReplayAdmin(ReadOnlyAdmin):
    """The audit of replays and purges; its changelist links to the live dead letters."""

    list_display = (
        "action",
        "message_id",
        "queue",
        "task_name",
        "performed_by",
        "performed_via",
        "performed_at",
    )
    list_filter = ("action", "queue", "performed_via")
    search_fields = ("message_id", "task_name")
    date_hierarchy = "performed_at"

    def get_urls(self):
        view = self.admin_site.admin_view(self.dead_letters_view)
        return [path("dead-letters/", view, name="messaging_dead_letters")] + super().get_urls()

    def dead_letters_view(self, request):
        if not user_is_admin(request.user):
            messages.error(request, "Only administrators may manage dead letters.")
            return redirect("admin:index")
        if request.method == "POST":
            return self._settle(request)
        queue = request.GET.get("queue") or None
        if queue is not None and queue not in celeryconfig.WORK_QUEUE_NAMES:
            messages.error(request, "Unknown queue; choose one of the list.")
            queue = None
        try:
            letters = dead_letters_list(queue)
        except (OperationalError, OSError) as exc:
            messages.error(request, f"Broker unreachable: {exc}")
            letters = []
        except DeadLetterError as exc:
            messages.error(request, str(exc))
            letters = []
        context = {
            **self.admin_site.each_context(request),
            "title": "Dead letters",
            "letters": letters,
            "queues": celeryconfig.WORK_QUEUE_NAMES,
            "selected_queue": queue,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/messaging/dead_letters.html", context)

    def _settle(self, request):
        queue = request.POST.get("queue")
        target = request.POST.get("message_id") or ("*" if request.POST.get("all") else None)
        replay = request.POST.get("action") == "replay"
        settle = dead_letter_replay if replay else dead_letter_purge
        try:
            done = settle(queue, target, user=request.user, via="admin")
            verb = "Replayed" if replay else "Purged"
            messages.success(request, f"{verb} {len(done)} dead letter(s) from {queue}.")
        except (DeadLetterError, OperationalError, OSError) as exc:
            messages.error(request, str(exc))
        return redirect(f"{request.path}?{urlencode({'queue': queue or ''})}")
