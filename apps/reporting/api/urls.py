from django.urls import path

from apps.reporting.api.views import AssetReportView, DailyReportView

urlpatterns = [
    path("daily/", DailyReportView.as_view(), name="report-daily"),
    path("assets/", AssetReportView.as_view(), name="report-assets"),
]
