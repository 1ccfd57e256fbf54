from django.contrib import admin
from django.urls import path

from apps.reporting.views import dashboard

urlpatterns = [
    path("dashboard/", admin.site.admin_view(dashboard), name="reports-dashboard"),
]
