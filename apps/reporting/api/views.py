from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework_csv.renderers import CSVRenderer

from apps.core.api import RolePermission, role_rule
from apps.core.roles import user_is_admin, user_is_manager_or_admin
from apps.properties.selectors import staff_property_ids
from apps.reporting import selectors
from apps.reporting.api.serializers import (
    AmenityReportRowSerializer,
    AssetReportRowSerializer,
    ComplaintReportRowSerializer,
    DailyQuerySerializer,
    DailyStatSerializer,
    MovesReportRowSerializer,
    ParcelReportRowSerializer,
    RepairReportRowSerializer,
    ReportQuerySerializer,
    VisitorReportRowSerializer,
)

MANAGERS_AND_ADMINS = {
    "*": role_rule(user_is_manager_or_admin, "Only managers and administrators may see reports.")
}


def _property_ids(request, only=None):
    """None (all) for admins; a manager's assigned properties; narrowed to `only`."""
    ids = None if user_is_admin(request.user) else staff_property_ids(request.user)
    if only is not None:
        ids = [only] if ids is None or only in ids else []
    return ids


PROPERTY = OpenApiParameter("property", int, description="one property id")
REPORT_PARAMETERS = [
    PROPERTY,
    OpenApiParameter("from", OpenApiTypes.DATE, description="first day, inclusive"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="last day, inclusive (default today)"),
    OpenApiParameter("group_by", str, enum=["day", "week", "month"], description="period"),
    OpenApiParameter("format", str, enum=["json", "csv"], description="csv: the same rows"),
]


class DailyReportView(generics.ListAPIView):
    """Daily counters per property: repairs opened/resolved/cancelled/reopened (by category
    and urgency), complaints filed/resolved/rated, visitor arrivals (by hour)."""

    serializer_class = DailyStatSerializer
    permission_classes = [RolePermission]
    role_rules = MANAGERS_AND_ADMINS
    filter_backends = []

    @extend_schema(
        parameters=[
            PROPERTY,
            OpenApiParameter("date_from", str, description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("date_to", str, description="YYYY-MM-DD, inclusive"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.daily_stats(property_ids=[])
        query = DailyQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        return selectors.daily_stats(
            property_ids=_property_ids(self.request, q.get("property")),
            date_from=q.get("date_from"),
            date_to=q.get("date_to"),
        )


class ReportCSVRenderer(CSVRenderer):
    """CSV with the row serializer's columns, in order, even for an empty report."""

    def render(self, data, media_type=None, renderer_context=None):
        context = dict(renderer_context or {})
        view = context.get("view")
        if view is not None and isinstance(data, list):
            context["header"] = list(view.row_serializer().fields)
        return super().render(data, media_type, context)


class ReportView(APIView):
    """A report answered from the report tables, as JSON rows or (?format=csv) CSV."""

    permission_classes = [RolePermission]
    role_rules = MANAGERS_AND_ADMINS
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, ReportCSVRenderer]
    row_serializer = None
    report = None

    def get(self, request):
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        rows = self.rows(_property_ids(request, q.get("property")), q)
        return Response(self.row_serializer(rows, many=True).data)

    def rows(self, property_ids, q):
        return type(self).report(
            property_ids=property_ids,
            date_from=q["from"],
            date_to=q["to"],
            group_by=q["group_by"],
        )


def _report_schema(row_serializer, description):
    return extend_schema(
        description=description,
        parameters=REPORT_PARAMETERS,
        responses={
            (200, "application/json"): row_serializer(many=True),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="the rows as CSV"),
        },
    )


def report_view(name, row_serializer, report, base=ReportView):
    """A report endpoint: its rows from `report` (a selector, whose docstring describes
    it in the schema), serialized by `row_serializer`, as JSON or CSV."""
    view = type(name, (base,), {"row_serializer": row_serializer, "report": staticmethod(report)})
    return extend_schema_view(get=_report_schema(row_serializer, report.__doc__))(view)


class AssetSnapshotView(ReportView):
    """Assets are a current snapshot: `to` is the day warranties are counted from."""

    def rows(self, property_ids, q):
        return selectors.asset_report(property_ids=property_ids, today=q["to"])


RepairReportView = report_view(
    "RepairReportView", RepairReportRowSerializer, selectors.repairs_report
)
ComplaintReportView = report_view(
    "ComplaintReportView", ComplaintReportRowSerializer, selectors.complaints_report
)
VisitorReportView = report_view(
    "VisitorReportView", VisitorReportRowSerializer, selectors.visitors_report
)
ParcelReportView = report_view(
    "ParcelReportView", ParcelReportRowSerializer, selectors.parcels_report
)
AssetReportView = report_view(
    "AssetReportView", AssetReportRowSerializer, selectors.asset_report, base=AssetSnapshotView
)
MovesReportView = report_view("MovesReportView", MovesReportRowSerializer, selectors.moves_report)
AmenityReportView = report_view(
    "AmenityReportView", AmenityReportRowSerializer, selectors.amenities_report
)
