from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ADMINS_ONLY, RolePermission
from apps.messaging.api.serializers import (
    DeadLetterListSerializer,
    DeadLetterSerializer,
    DeadLetterSettledSerializer,
    DeadLetterSettleSerializer,
)
from apps.messaging.deadletters import (
    dead_letter_purge,
    dead_letter_replay,
    dead_letters_list,
)


class BrokerAPIView(APIView):
    """Dead letters: admins only; the service's errors answer 404, 409 and 503."""

    permission_classes = [RolePermission]
    role_rules = {"*": ADMINS_ONLY}
    extra_error_statuses = (status.HTTP_503_SERVICE_UNAVAILABLE,)


class DeadLetterListView(BrokerAPIView):
    # 404: `queue` names no work queue.
    extra_error_statuses = (*BrokerAPIView.extra_error_statuses, status.HTTP_404_NOT_FOUND)

    @extend_schema(
        parameters=[OpenApiParameter("queue", str, description="one work queue; default all")],
        responses=DeadLetterListSerializer,
        operation_id="ops_dead_letters_list",
    )
    def get(self, request):
        letters = dead_letters_list(request.query_params.get("queue"))
        return Response({"count": len(letters), "results": letters})


class DeadLetterDetailView(BrokerAPIView):
    @extend_schema(responses=DeadLetterSerializer)
    def get(self, request, queue, message_id):
        found = dead_letters_list(queue, message_id=message_id)
        if not found:
            raise exceptions.NotFound(f"no dead letter {message_id!r} in {queue}")
        return Response(found[0])


class DeadLetterSettleView(BrokerAPIView):
    """POST {"message_id": ...} or {"all": true} to replay or purge dead letters of a queue."""

    replay = True
    # 409: a replay the original queue does not take (deleted); the dead letter stays.
    extra_error_statuses = (*BrokerAPIView.extra_error_statuses, status.HTTP_409_CONFLICT)

    @extend_schema(request=DeadLetterSettleSerializer, responses=DeadLetterSettledSerializer)
    def post(self, request, queue):
        serializer = DeadLetterSettleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = (
            "*" if serializer.validated_data["all"] else serializer.validated_data["message_id"]
        )
        settle = dead_letter_replay if self.replay else dead_letter_purge
        done = settle(queue, target, user=request.user, via="api")
        return Response({"count": len(done), "message_ids": done})
