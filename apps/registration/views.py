"""The HTML pages the account emails link to: confirmation (a GET shows a button, only the
POST, CSRF protected, activates the account) and password reset (Django's pages)."""

from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from apps.registration.services import ConfirmationError, user_confirm


@require_http_methods(["GET", "POST"])
def confirm_page(request):
    if request.method == "GET":
        token = request.GET.get("token", "")
        return render(request, "registration/confirm.html", {"token": token, "state": "ask"})
    token = request.POST.get("token", "")
    try:
        user_confirm(token=token)
    except ConfirmationError as exc:
        return render(
            request, "registration/confirm.html", {"state": "failed", "error": str(exc)}, status=400
        )
    return render(request, "registration/confirm.html", {"state": "done"})


class PasswordResetPage(auth_views.PasswordResetConfirmView):
    """Django's reset form; saving the new password revokes the account's API tokens
    (User.save)."""

    success_url = reverse_lazy("password-reset-done-page")
