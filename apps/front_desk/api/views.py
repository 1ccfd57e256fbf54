import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import RolePermission, WorkflowFilter, workflow_errors
from apps.front_desk import selectors, services
from apps.front_desk.api.serializers import (
    ParcelDetailSerializer,
    ParcelLogSerializer,
    ParcelPickUpSerializer,
    ParcelReturnSerializer,
    ParcelSerializer,
)
from apps.front_desk.models import Carrier, Parcel, ParcelStatus, ParcelStatusChange

ERRORS = workflow_errors("parcel")


class ParcelFilter(WorkflowFilter):
    status = django_filters.MultipleChoiceFilter(choices=ParcelStatus.choices)
    carrier = django_filters.MultipleChoiceFilter(choices=Carrier.choices)

    class Meta:
        model = Parcel
        fields = ["status", "carrier", "property", "unit"]


@extend_schema_view(
    list=extend_schema(
        summary="List parcels you may see",
        description=(
            "Residents: their own parcels (status=waiting: those waiting at the desk; the "
            "rest is their history); the desk (security) and managers: their properties'; "
            "admins: all. Ordering: created_at, picked_up_at, status."
        ),
    ),
    retrieve=extend_schema(
        summary="A parcel with its status history",
        responses={200: ParcelDetailSerializer, 404: ERRORS[404]},
    ),
)
class ParcelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Parcels at the front desk: waiting → picked_up (with the pickup code, or by a
    person the resident authorised) or → returned (to sender)."""

    queryset = Parcel.objects.none()
    permission_classes = [RolePermission]
    role_rules = {
        "*": services.parcel_actor_authorize,
        "create": services.parcel_desk_authorize,
        "pick_up": services.parcel_desk_authorize,
        "return_to_sender": services.parcel_desk_authorize,
    }
    serializer_class = ParcelSerializer
    filterset_class = ParcelFilter
    ordering_fields = ["created_at", "picked_up_at", "status", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.parcels_visible_to(self.request.user)

    def get_serializer_class(self):
        return {
            "retrieve": ParcelDetailSerializer,
            "create": ParcelLogSerializer,
            "pick_up": ParcelPickUpSerializer,
            "return_to_sender": ParcelReturnSerializer,
        }.get(self.action, ParcelSerializer)

    def _detail(self, parcel):
        parcel = (
            self.get_queryset()
            .prefetch_related(
                Prefetch(
                    "history", queryset=ParcelStatusChange.objects.select_related("changed_by")
                )
            )
            .get(pk=parcel.pk)
        )
        return Response(ParcelDetailSerializer(parcel, context=self.get_serializer_context()).data)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    def _validated(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        summary="Log parcels that arrived for one resident (the desk)",
        description=(
            "One parcel per tracking number, all for one resident of the unit (the unit's "
            "resident when none is chosen), with one pickup code; the resident is told at "
            "once (in-app, and email/SMS by their preferences after quiet hours). A number "
            "already waiting at the property's desk is refused (400)."
        ),
        request=ParcelLogSerializer,
        responses={201: ParcelSerializer(many=True), 400: ERRORS[400], 403: ERRORS[403]},
    )
    def create(self, request, *args, **kwargs):
        parcels = services.parcels_log(by=request.user, **self._validated(request))
        data = ParcelSerializer(parcels, many=True, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Hand a waiting parcel over (the desk)",
        description=(
            "With the resident's pickup code, or with `collected_by` (a person the "
            "resident authorised) and a note saying how. A wrong code is 400 on `code`; a "
            "parcel already picked up or returned is 409 naming its state."
        ),
        request=ParcelPickUpSerializer,
        responses={
            200: ParcelDetailSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    @action(detail=True, methods=["post"], url_path="pick-up")
    def pick_up(self, request, pk=None):
        data = self._validated(request)
        parcel = services.parcel_pick_up(parcel=self.get_object(), by=request.user, **data)
        return self._detail(parcel)

    @extend_schema(
        summary="Return a waiting parcel to its sender (the desk)",
        description="A parcel already picked up or returned is 409 naming its state.",
        request=ParcelReturnSerializer,
        responses={
            200: ParcelDetailSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_to_sender(self, request, pk=None):
        data = self._validated(request)
        parcel = services.parcel_return(parcel=self.get_object(), by=request.user, **data)
        return self._detail(parcel)
