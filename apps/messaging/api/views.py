from amqp.exceptions import AMQPError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from kombu.exceptions import OperationalError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsAdminRole
from apps.messaging.api.serializers import (
    DeadLetterListSerializer,
    DeadLetterSerializer,
    DeadLetterSettledSerializer,
    DeadLetterSettleSerializer,
)
from apps.messaging.deadletters import (
    DeadLetterError,
    DeadLetterUnroutableError,
    dead_letter_purge,
    dead_letter_replay,
    dead_letters_list,
)


class BrokerUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The message broker is unreachable; try again shortly."


class Unroutable(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The original queue takes no messages; the dead letter stays."


def _broker_call(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except DeadLetterUnroutableError as exc:
        raise Unroutable(str(exc)) from exc
    except DeadLetterError as exc:
        raise exceptions.NotFound(str(exc)) from exc
    except (OperationalError, OSError, AMQPError) as exc:
        raise BrokerUnavailable() from exc


class BrokerAPIView(APIView):
    permission_classes = [IsAdminRole]
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
        letters = _broker_call(dead_letters_list, request.query_params.get("queue"))
        return Response({"count": len(letters), "results": letters})


class DeadLetterDetailView(BrokerAPIView):
    @extend_schema(responses=DeadLetterSerializer)
    def get(self, request, queue, message_id):
        found = _broker_call(dead_letters_list, queue, message_id=message_id)
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
        done = _broker_call(settle, queue, target, user=request.user, via="api")
        return Response({"count": len(done), "message_ids": done})
