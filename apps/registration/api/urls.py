from django.urls import path

from apps.registration.api.views import (
    ConfirmView,
    InvitationAcceptView,
    MeView,
    PasswordResetConfirmView,
    PasswordResetView,
    RegisterView,
)

urlpatterns = [
    path("register/", RegisterView.as_view(), name="auth-register"),
    path("confirm/", ConfirmView.as_view(), name="auth-confirm"),
    path("me/", MeView.as_view(), name="auth-me"),
    path("invitations/accept/", InvitationAcceptView.as_view(), name="auth-invitation-accept"),
    path("password/reset/", PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "password/reset/confirm/",
        PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
]
