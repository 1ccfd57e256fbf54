from django.urls import path

from apps.ops import views

urlpatterns = [
    path("", views.front_door, name="front-door"),
    path("healthz/", views.healthz, name="healthz"),
    path("readyz/", views.ReadinessView.as_view(), name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
]
