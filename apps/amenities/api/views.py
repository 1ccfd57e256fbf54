from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.amenities import selectors, services
from apps.amenities.api.serializers import (
    AmenityClosureSerializer,
    AmenitySerializer,
    AmenityUpdateSerializer,
    ClosureAnnounceSerializer,
    FreeSlotsSerializer,
    ReservationCreateSerializer,
    ReservationDetailSerializer,
    ReservationSerializer,
    ReservationStatusChangeSerializer,
    ReservationTransitionSerializer,
    SlotsQuerySerializer,
)
from apps.amenities.models import Amenity, Reservation, ReservationStatusChange
from apps.core.api import (
    RolePermission,
    WorkflowHistoryMixin,
    WorkflowTransitionMixin,
    WorkflowViewSet,
    workflow_actions_schema,
    workflow_errors,
    workflow_schema,
)

AMENITY_ERRORS = workflow_errors("amenity")


class AmenityViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Amenities: residents see those of their properties; managers keep theirs."""

    queryset = Amenity.objects.none()
    permission_classes = [RolePermission]
    role_rules = {
        "*": services.reservation_actor_authorize,
        "create": services.amenity_manage_authorize,
        "update": services.amenity_manage_authorize,
        "partial_update": services.amenity_manage_authorize,
        "closure_announce": services.amenity_manage_authorize,
    }
    filterset_fields = ["property", "kind", "is_active"]
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.amenities_visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return AmenityUpdateSerializer
        return AmenitySerializer

    def perform_create(self, serializer):
        amenity = Amenity(**serializer.validated_data)
        serializer.instance = services.amenity_save(user=self.request.user, amenity=amenity)

    def perform_update(self, serializer):
        amenity = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(amenity, name, value)
        services.amenity_save(user=self.request.user, amenity=amenity)

    @extend_schema(
        summary="An amenity's free slots on one day (the property's day)",
        description=(
            "Slots start at opening time and follow every slot length of real time, so "
            "on the days clocks change an amenity open across the change has an hour of "
            "slots fewer (spring) or more (autumn). Only slots not yet started with a "
            "place left; none on a closed day (`closed` says why)."
        ),
        parameters=[OpenApiParameter("date", str, required=True, description="YYYY-MM-DD")],
        responses={
            200: FreeSlotsSerializer,
            400: AMENITY_ERRORS[400],
            404: AMENITY_ERRORS[404],
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_fields=None)
    def slots(self, request, pk=None):
        query = SlotsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        amenity = self.get_object()
        day = query.validated_data["date"]
        closure = selectors.closure_on(amenity, day)
        body = {
            "date": day,
            "time_zone": amenity.property.time_zone,
            "closed": closure.reason if closure else None,
            "slots": selectors.amenity_free_slots(amenity, day),
        }
        return Response(FreeSlotsSerializer(body).data)

    @extend_schema(
        summary="An amenity's closures",
        responses={200: AmenityClosureSerializer(many=True), 404: AMENITY_ERRORS[404]},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_fields=None)
    def closures(self, request, pk=None):
        closures = selectors.closures_of(self.get_object())
        return Response(AmenityClosureSerializer(closures, many=True).data)

    @extend_schema(
        summary="Announce a closure (managers): cancels the bookings it covers",
        description=(
            "The bookings the closure covers are cancelled by the amenities worker, and "
            "each resident concerned is told once; bookings in it are refused at once."
        ),
        request=ClosureAnnounceSerializer,
        responses={
            201: AmenityClosureSerializer,
            400: AMENITY_ERRORS[400],
            403: AMENITY_ERRORS[403],
            404: AMENITY_ERRORS[404],
        },
    )
    @closures.mapping.post
    def closure_announce(self, request, pk=None):
        serializer = ClosureAnnounceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        closure = services.amenity_closure_announce(
            user=request.user, amenity=self.get_object(), **serializer.validated_data
        )
        return Response(AmenityClosureSerializer(closure).data, status=status.HTTP_201_CREATED)


@workflow_schema(
    "reservation",
    detail=ReservationDetailSerializer,
    create_request=ReservationCreateSerializer,
    summaries=(
        "List reservations you may see (residents: yours)",
        "A reservation with its status history",
        "Book an amenity (residents with a residency in force at its property)",
    ),
    list_description=(
        "Residents see their own reservations; managers those of their properties; "
        "admins all. Ordering: starts_at, created_at, status (prefix - for descending)."
    ),
)
@workflow_actions_schema(
    "reservation",
    detail=ReservationDetailSerializer,
    summary="Move a reservation along its workflow (cancel, approve, reject, no-show)",
    description=(
        "requested → approved (→ confirmed at once) or rejected, when the amenity "
        "needs approval; confirmed → completed or no_show once it has started; "
        "requested, approved or confirmed → cancelled (residents until the amenity's "
        "cancellation deadline). Managers of the property and admins take the staff "
        "steps. An illegal step answers 409 naming the allowed ones; a time already "
        "taken 409 too."
    ),
    request=ReservationTransitionSerializer,
    history=ReservationStatusChangeSerializer,
)
class ReservationViewSet(WorkflowTransitionMixin, WorkflowHistoryMixin, WorkflowViewSet):
    """Amenity reservations. Residents book their properties' amenities and cancel their
    own bookings; managers (of the property) and admins approve, reject and close them."""

    queryset = Reservation.objects.none()
    role_rules = {
        "*": services.reservation_actor_authorize,
        "create": services.reservation_book_authorize,
    }
    visible_to = staticmethod(selectors.reservations_visible_to)
    create_service = staticmethod(services.reservation_book)
    transition_service = staticmethod(services.reservation_transition)
    transition_subject = "reservation"
    transition_authorize = staticmethod(services.reservation_transition_authorize)
    history_selector = staticmethod(selectors.reservation_history)
    serializer_class = ReservationSerializer
    serializer_classes = {
        "retrieve": ReservationDetailSerializer,
        "create": ReservationCreateSerializer,
        "transition": ReservationTransitionSerializer,
        "history": ReservationStatusChangeSerializer,
    }
    detail_prefetch = (
        Prefetch("history", queryset=ReservationStatusChange.objects.select_related("changed_by")),
    )
    filterset_fields = ["amenity", "property", "status"]
    ordering_fields = ["starts_at", "created_at", "status", "id"]
    ordering = ["starts_at", "id"]
