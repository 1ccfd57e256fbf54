from django.urls import path

from apps.reporting.api.views import (
    AmenityReportView,
    AssetReportView,
    ComplaintReportView,
    DailyReportView,
    MovesReportView,
    ParcelReportView,
    RepairReportView,
    VisitorReportView,
)

urlpatterns = [
    path("daily/", DailyReportView.as_view(), name="report-daily"),
    path("repairs/", RepairReportView.as_view(), name="report-repairs"),
    path("complaints/", ComplaintReportView.as_view(), name="report-complaints"),
    path("visitors/", VisitorReportView.as_view(), name="report-visitors"),
    path("parcels/", ParcelReportView.as_view(), name="report-parcels"),
    path("assets/", AssetReportView.as_view(), name="report-assets"),
    path("amenities/", AmenityReportView.as_view(), name="report-amenities"),
    path("moves/", MovesReportView.as_view(), name="report-moves"),
]
