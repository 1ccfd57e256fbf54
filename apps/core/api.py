"""API pieces shared by the workflow apps (repairs, complaints)."""

import django_filters
from django.contrib.auth.models import AnonymousUser
from django.core.validators import MaxLengthValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.core.filters import FilterSet
from apps.core.validators import NOTE_MAX_LENGTH


def workflow_errors(noun):
    """The error answers of a workflow endpoint, for the OpenAPI schema."""
    return {
        400: OpenApiResponse(description="Invalid input; field messages."),
        403: OpenApiResponse(description="Your role may never do this."),
        404: OpenApiResponse(description=f"No such {noun} visible to you."),
        409: OpenApiResponse(description=f"Not allowed in the {noun}'s current state."),
    }


def workflow_schema(noun, *, detail, create_request, summaries, list_description):
    """The OpenAPI schema of a WorkflowViewSet's list, retrieve and create; `summaries`
    are theirs in that order."""
    errors = workflow_errors(noun)
    list_summary, retrieve_summary, create_summary = summaries
    return extend_schema_view(
        list=extend_schema(summary=list_summary, description=list_description),
        retrieve=extend_schema(
            summary=retrieve_summary, responses={200: detail, 404: errors[404]}
        ),
        create=extend_schema(
            summary=create_summary, request=create_request,
            responses={201: detail, 400: errors[400], 403: errors[403]},
        ),
    )  # fmt: skip


class WorkflowPermission(IsAuthenticated):
    """A role that may never take a view's action is refused (403) before any object is
    looked up (objects it may not see are 404 through the scoped queryset).

    The view sets `authorize = {action: check(user)}`, "*" for every action; a check raises
    PermissionDenied (the app's services define them, so the API and services agree).
    """

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        for key in ("*", view.action):
            check = view.authorize.get(key)
            if check is not None:
                check(request.user)
        return True


class WorkflowFilter(FilterSet):
    """Filters every workflow list has (with `property` and `unit` in the app's
    Meta.fields, by id); the app adds its status and categories."""

    created_from = django_filters.DateFilter(field_name="created_at__date", lookup_expr="gte")
    created_to = django_filters.DateFilter(field_name="created_at__date", lookup_expr="lte")


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdField(serializers.PrimaryKeyRelatedField):
    """The id of one of `scope(user)`, the objects the requesting user may choose: any
    other id — another property's, one that does not exist — is the same "does not exist",
    so the answer never tells which ids exist."""

    def __init__(self, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return self.scope(AnonymousUser()).none()
        return self.scope(request.user)


class CappedIdsField(serializers.ManyRelatedField):
    """A list of ids of `scope(user)` (a ScopedIdField each), at most `max_length` of them:
    a longer list is refused (400, field message) before any is looked up, as each id is
    one query."""

    default_error_messages = {
        "max_length": serializers.ListField.default_error_messages["max_length"]
    }

    def __init__(self, scope, *, max_length, **kwargs):
        super().__init__(child_relation=ScopedIdField(scope), **kwargs)
        self.max_length = max_length
        self.validators.append(MaxLengthValidator(max_length))  # the schema's maxItems

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class AllowedTransitionsField(serializers.ListField):
    """The statuses the requesting user may move the object to now."""

    def __init__(self, workflow, **kwargs):
        self.workflow = workflow
        kwargs.setdefault("help_text", "Statuses you may move this to now.")
        super().__init__(child=serializers.CharField(), read_only=True, source="*", **kwargs)

    def to_representation(self, obj):
        request = self.context.get("request")
        return [] if request is None else self.workflow.allowed_for_user(obj, request.user)


class StatusChangeSerializer(serializers.ModelSerializer):
    """A workflow history row. The first step came from no status: `from_status` is null
    then, never "" (which no status enum contains)."""

    def build_field(self, field_name, info, model_class, nested_depth):
        field_class, kwargs = super().build_field(field_name, info, model_class, nested_depth)
        if field_name == "from_status":
            kwargs["allow_null"] = True
        return field_class, kwargs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["from_status"] = data["from_status"] or None
        return data


class TransitionSerializer(serializers.Serializer):
    """A step request; the app's subclass declares `status` with its statuses."""

    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The version you last saw; a stale one is refused with 409.",
    )


class WorkflowViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The objects of one workflow: list and retrieve what the user may see, create
    (through `create_service(resident=user, **data)`) and step (`step()`).

    The app sets `visible_to(user)`, `serializer_classes` {action: serializer} with
    "retrieve" the detail every write answers with, `detail_prefetch` and `authorize`.
    """

    permission_classes = [WorkflowPermission]
    serializer_classes = {}
    detail_prefetch = ()
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return self.visible_to(self.request.user)

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, self.serializer_class)

    def answer(self, obj, code=status.HTTP_200_OK):
        obj = self.get_queryset().prefetch_related(*self.detail_prefetch).get(pk=obj.pk)
        serializer = self.serializer_classes["retrieve"]
        return Response(serializer(obj, context=self.get_serializer_context()).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self.answer(self.get_object())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self.create_service(resident=request.user, **serializer.validated_data)
        return self.answer(obj, status.HTTP_201_CREATED)

    def step(self, request, transition, subject, authorize=None):
        """Validate a step request, look the object up, and take the step through the
        app's `transition(<subject>=obj, to_status=..., user=..., ...)` service;
        `authorize(user, to_status)` first refuses a step the role may never take (403 for
        any object, visible or not)."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if authorize is not None:
            authorize(request.user, data["status"])
        obj = transition(
            **{subject: self.get_object()},
            to_status=data["status"],
            user=request.user,
            note=data.get("note", ""),
            expected_version=data.get("version"),
        )
        return self.answer(obj)
