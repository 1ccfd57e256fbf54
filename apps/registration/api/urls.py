from django.urls import path

from apps.registration.api.views import ConfirmView, MeView, RegisterView

urlpatterns = [
    path("register/", RegisterView.as_view(), name="auth-register"),
    path("confirm/", ConfirmView.as_view(), name="auth-confirm"),
    path("me/", MeView.as_view(), name="auth-me"),
]
