from django.urls import path

from apps.accounts.api.views import ConfirmView, MeView, RegisterView, TokenView

urlpatterns = [
    path("register/", RegisterView.as_view(), name="auth-register"),
    path("confirm/", ConfirmView.as_view(), name="auth-confirm"),
    path("token/", TokenView.as_view(), name="auth-token"),
    path("me/", MeView.as_view(), name="auth-me"),
]
