from apps.messaging.correlation import (
    clean_correlation_id,
    reset_correlation_id,
    set_correlation_id,
)

REQUEST_ID_HEADER = "X-Request-ID"


class CorrelationIdMiddleware:
    """Takes the request's X-Request-ID (or makes one) and echoes it on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        correlation_id = clean_correlation_id(request.headers.get(REQUEST_ID_HEADER))
        request.correlation_id = correlation_id
        token = set_correlation_id(correlation_id)
        try:
            response = self.get_response(request)
        finally:
            reset_correlation_id(token)
        response[REQUEST_ID_HEADER] = correlation_id
        return response
