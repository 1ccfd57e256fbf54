from django.urls import path

from apps.accounts.api.views import LogoutAllView, LogoutView, PasswordChangeView, TokenView

urlpatterns = [
    path("token/", TokenView.as_view(), name="auth-token"),
    path("logout/", LogoutView.as_view(), name="auth-logout"),
    path("logout-all/", LogoutAllView.as_view(), name="auth-logout-all"),
    path("password/change/", PasswordChangeView.as_view(), name="auth-password-change"),
]
