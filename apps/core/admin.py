"""Admin helpers shared by the domain apps."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.exceptions import APIException


def service_action(service, label):
    """An admin action that runs `service(obj, by=user)` for each selected object, so the
    admin takes the same workflow step (and publishes the same events) as the API."""

    def act(modeladmin, request, queryset):
        done = 0
        for obj in queryset:
            try:
                service(obj, by=request.user)
                done += 1
            except (APIException, PermissionDenied, ValidationError) as exc:
                detail = getattr(exc, "detail", None) or getattr(exc, "messages", None) or exc
                modeladmin.message_user(request, f"{obj}: {detail}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{label}: {done} done.", messages.SUCCESS)

    act.__name__ = service.__name__
    return admin.action(description=f"{label} selected")(act)


class ScopedAdminMixin:
    """Staff in the admin see only what the API would show them."""

    def scoped(self, request, queryset):
        raise NotImplementedError

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else self.scoped(request, queryset)
