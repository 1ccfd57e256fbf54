"""The API edge shared by every app: the one exception handler (domain errors to HTTP),
and the pieces of the workflow apps (repairs, complaints, announcements)."""

import logging

import django_filters
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator
from django.db import InterfaceError, OperationalError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import Conflict, Invalid, LoginLocked, NotFound, Unavailable
from apps.core.filters import FilterSet
from apps.core.roles import user_is_admin
from apps.core.validators import NOTE_MAX_LENGTH

logger = logging.getLogger(__name__)


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request needs is unreachable; try again shortly."


class DatabaseUnavailable(ServiceUnavailable):
    default_detail = "The database connection was lost; try again."

    def __init__(self):
        super().__init__()
        self.wait = 1  # DRF answers `wait` as Retry-After


def _as_api_exception(exc):
    """The DRF exception a domain or Django error answers as (None: not one of them)."""
    if isinstance(exc, Invalid):
        return exceptions.ValidationError({exc.field: [exc.message]})
    if isinstance(exc, NotFound):
        return exceptions.NotFound(exc.message)
    if isinstance(exc, Unavailable):
        return ServiceUnavailable(exc.message)
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The request's database session ended (a PostgreSQL restart, a terminated
        # backend): a transient failure the client may retry, not a bug.
        logger.warning("database connection lost", exc_info=exc)
        return DatabaseUnavailable()
    if isinstance(exc, LoginLocked):
        return exceptions.Throttled(
            wait=exc.retry_after, detail="Too many failed logins; try again later."
        )
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    return None


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every domain error is answered here, once, so views
    never catch one (409 with the allowed steps, 400 with field messages, 404, 429 with
    Retry-After, 503); anything else unexpected is logged and answered without a trace."""
    if isinstance(exc, Conflict):  # `extra` keeps its JSON types (a version is a number)
        return Response({"detail": exc.message, **exc.extra}, status=status.HTTP_409_CONFLICT)
    response = drf_exception_handler(_as_api_exception(exc) or exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return Response(
            {"detail": "Internal error; it has been logged."},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return response


class RolePermission(BasePermission):
    """The one access policy of the API (views without role rules keep DRF's default,
    IsAuthenticated): authenticated, and a role that may never take a view's action is
    refused (403) before any object is looked up (objects it may not see are 404 through
    the scoped queryset).

    The view sets `role_rules = {action: rule(user)}` (an APIView's action is its method,
    e.g. "post"); "*" applies to every action, before the action's own rule. A rule refuses
    by returning a false value ("Your role may not do this.") or by raising PermissionDenied
    with its own message, as the services' `<noun>_authorize` checks do (so the API and the
    services agree); `role_rule()` gives a predicate its message.
    """

    message = "Your role may not do this."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        rules = getattr(view, "role_rules", {})
        action = getattr(view, "action", None) or request.method.lower()
        return all(rules[key](request.user) for key in ("*", action) if key in rules)


def role_rule(predicate, message):
    """A role rule that refuses whoever `predicate(user)` rejects with `message` (403)."""

    def rule(user):
        if not predicate(user):
            raise PermissionDenied(message)
        return True

    return rule


ADMINS_ONLY = role_rule(user_is_admin, "Only administrators may do this.")


def workflow_errors(noun):
    """The error answers of a workflow endpoint, for the OpenAPI schema."""
    return {
        400: OpenApiResponse(description="Invalid input; field messages."),
        403: OpenApiResponse(description="Your role may never do this."),
        404: OpenApiResponse(description=f"No such {noun} visible to you."),
        409: OpenApiResponse(description=f"Not allowed in the {noun}'s current state."),
    }


def workflow_actions_schema(noun, *, detail, summary, description, request, history=None):
    """The OpenAPI schema of a viewset's `transition` (its `summary`, `description` and
    `request`, answering `detail`) and, given its row serializer, `history`."""
    errors = workflow_errors(noun)
    actions = {
        "transition": extend_schema(
            summary=summary,
            description=description,
            request=request,
            responses={200: detail, **errors},
        )
    }
    if history is not None:
        actions["history"] = extend_schema(
            summary=f"A {noun}'s status history, oldest first",
            responses={200: history(many=True), 404: errors[404]},
        )
    return extend_schema_view(**actions)


def workflow_schema(noun, *, detail, create_request, summaries, list_description):
    """The OpenAPI schema of a WorkflowViewSet's list, retrieve and create; `summaries`
    are theirs in that order."""
    errors = workflow_errors(noun)
    list_summary, retrieve_summary, create_summary = summaries
    return extend_schema_view(
        list=extend_schema(summary=list_summary, description=list_description),
        retrieve=extend_schema(summary=retrieve_summary, responses={200: detail, 404: errors[404]}),
        create=extend_schema(
            summary=create_summary,
            request=create_request,
            responses={201: detail, 400: errors[400], 403: errors[403]},
        ),
    )


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
    """A step: the status to move to, an optional note, and the version you last saw."""

    # The app's subclass declares `status` with its statuses.

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
    # The objects of one workflow: list and retrieve what the user may see, create
    # (through `create_service(resident=user, **data)`) and step (`transition`).
    # The app sets `visible_to(user)`, `serializer_classes` {action: serializer} with
    # "retrieve" the detail every write answers with, `detail_prefetch` and `role_rules`.
    # A comment, not a docstring: drf-spectacular would describe the app's operations by
    # it; the app's viewset has a docstring written for API readers.

    permission_classes = [RolePermission]
    serializer_classes = {}
    detail_prefetch = ()
    # An app filters its list by one or the other; the transition and history actions
    # clear both (an action may only set what its viewset has).
    filterset_class = None
    filterset_fields = None
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


# The two mixins below have comments, not docstrings: drf-spectacular describes an
# operation that has no description of its own by the first docstring among its viewset's
# classes, and a mixin's would replace WorkflowViewSet's in the schema.


# A WorkflowViewSet's `transition` action: validate a step request
# (serializer_classes["transition"]), look the object up and take the step through the
# app's `transition_service(<transition_subject>=obj, to_status=..., user=..., note=...,
# expected_version=...)`, answering the detail. `transition_authorize(user, to_status)`,
# when set, first refuses a step the role may never take (403 for any object, visible or
# not). The app gives the action's schema with workflow_actions_schema().
class WorkflowTransitionMixin:
    transition_authorize = None

    @action(detail=True, methods=["post"], filterset_class=None, filterset_fields=None)
    def transition(self, request, pk=None):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if self.transition_authorize is not None:
            self.transition_authorize(request.user, data["status"])
        obj = self.transition_service(
            **{self.transition_subject: self.get_object()},
            to_status=data["status"],
            user=request.user,
            note=data.get("note", ""),
            expected_version=data.get("version"),
        )
        return self.answer(obj)


# A WorkflowViewSet's `history` action: the object's status changes, oldest first, read
# by the app's `history_selector(obj)` and answered with serializer_classes["history"],
# unpaginated. The app gives the action's schema with workflow_actions_schema(history=...).
class WorkflowHistoryMixin:
    @action(
        detail=True,
        methods=["get"],
        pagination_class=None,
        filterset_class=None,
        filterset_fields=None,
    )
    def history(self, request, pk=None):
        changes = self.history_selector(self.get_object())
        return Response(self.get_serializer(changes, many=True).data)
