from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.serializers import DetailSerializer
from apps.accounts.api.views import AuthThrottled
from apps.core.api import RolePermission
from apps.core.roles import user_is_manager_or_admin
from apps.registration.api.serializers import (
    ConfirmSerializer,
    InvitationSerializer,
    MeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RegisterSerializer,
    ResidencySerializer,
    TokenOnlySerializer,
)
from apps.registration.selectors import (
    invitations_managed_by,
    residencies_managed_by,
    user_profile,
)
from apps.registration.services import (
    invitation_accept,
    invitation_create,
    invitation_revoke,
    password_reset_confirm,
    password_reset_request,
    residency_decide,
    user_confirm,
    user_register,
)

REGISTERED = (
    "Thank you. If the details are valid, a confirmation link is on its way to this email "
    "address; follow it to activate the account."
)


class RegisterView(AuthThrottled):
    @extend_schema(request=RegisterSerializer, responses={202: DetailSerializer})
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_register(**serializer.validated_data)
        # The same answer whether or not the email already had an account.
        return Response({"detail": REGISTERED}, status=status.HTTP_202_ACCEPTED)


class ConfirmView(AuthThrottled):
    @extend_schema(request=ConfirmSerializer, responses={200: DetailSerializer})
    def post(self, request):
        serializer = ConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_confirm(token=serializer.validated_data["token"])
        return Response({"detail": "Your account is confirmed; you can log in now."})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        profile = user_profile(request.user)
        unit = profile["unit"]
        profile["unit"] = (
            {"id": unit.id, "code": unit.code, "property_id": unit.property_id} if unit else None
        )
        return Response(MeSerializer(profile).data)


class InvitationAcceptView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=TokenOnlySerializer, responses={200: ResidencySerializer})
    def post(self, request):
        """Accept an invitation as the logged-in (resident) account: its residency is
        approved at once."""
        serializer = TokenOnlySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        residency = invitation_accept(token=serializer.validated_data["token"], user=request.user)
        return Response(ResidencySerializer(residency).data)


class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Invitations to the units of the properties a manager manages (admins: all)."""

    serializer_class = InvitationSerializer
    permission_classes = [RolePermission]
    role_rules = {"*": user_is_manager_or_admin}
    filterset_fields = {"status": ["exact"], "unit": ["exact"]}
    ordering_fields = ["created_at", "expires_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return (
            invitations_managed_by(self.request.user)
            .select_related("unit")
            .order_by("-created_at", "-id")
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = invitation_create(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke a pending invitation: its link stops working."""
        invitation = invitation_revoke(self.get_object(), by=request.user)
        return Response(self.get_serializer(invitation).data)


class ResidencyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The residencies of a manager's properties; pending ones are claims to approve or
    reject (409 for any other status)."""

    serializer_class = ResidencySerializer
    permission_classes = [RolePermission]
    role_rules = {"*": user_is_manager_or_admin}
    filterset_fields = {"status": ["exact"], "unit": ["exact"]}
    ordering_fields = ["start_date", "decided_at"]
    ordering = ["-start_date"]

    def get_queryset(self):
        return (
            residencies_managed_by(self.request.user)
            .select_related("unit", "resident")
            .order_by("-start_date", "-id")
        )

    def _decide(self, approve):
        residency = residency_decide(self.get_object(), by=self.request.user, approve=approve)
        return Response(self.get_serializer(residency).data)

    @extend_schema(request=None, responses={200: ResidencySerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a pending claim: the resident gains the unit's rights and is told."""
        return self._decide(True)

    @extend_schema(request=None, responses={200: ResidencySerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a pending claim: the resident is told and gains nothing."""
        return self._decide(False)


PASSWORD_RESET_REQUESTED = (
    "If an account has this email address, a link to choose a new password is on its way."
)


class PasswordResetView(AuthThrottled):
    @extend_schema(request=PasswordResetSerializer, responses={202: DetailSerializer})
    def post(self, request):
        """Ask for a password reset link by email; the answer is the same whether or not
        the address has an account."""
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_request(email=serializer.validated_data["email"])
        return Response({"detail": PASSWORD_RESET_REQUESTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(AuthThrottled):
    @extend_schema(request=PasswordResetConfirmSerializer, responses={200: DetailSerializer})
    def post(self, request):
        """Set a new password with the uid and token of a reset email; the token works once,
        and every API token of the account is revoked."""
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_confirm(**serializer.validated_data)
        return Response({"detail": "Your password is changed; log in with it now."})
