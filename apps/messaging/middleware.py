import logging
import time

from apps.messaging.correlation import clean_correlation_id, correlation

REQUEST_ID_HEADER = "X-Request-ID"

access_logger = logging.getLogger("propmgmt.access")
# URL parts that are credentials (the confirmation and password reset links' tokens):
# logged as [redacted], so reading the logs gives no way into an account.
SECRET_URL_PARTS = frozenset({"token"})
REDACTED = "[redacted]"


def loggable_path(request):
    """The request's path and query with the values of SECRET_URL_PARTS redacted."""
    path = request.path
    match = request.resolver_match
    for name in SECRET_URL_PARTS & set(match.kwargs if match else ()):
        path = path.replace(f"/{match.kwargs[name]}/", f"/{REDACTED}/")
    query = request.GET.copy()
    for name in SECRET_URL_PARTS & set(query):
        query.setlist(name, [REDACTED])
    return f"{path}?{query.urlencode(safe='[]')}" if query else path


class CorrelationIdMiddleware:
    """Takes the request's X-Request-ID (or makes one), echoes it on the response, and
    logs one access line under it (so the request itself is found by its id)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        correlation_id = clean_correlation_id(request.headers.get(REQUEST_ID_HEADER))
        request.correlation_id = correlation_id
        started = time.monotonic()
        with correlation(correlation_id):
            response = self.get_response(request)
            access_logger.info(
                "%s %s %s %.1fms",
                request.method,
                loggable_path(request),
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
        response[REQUEST_ID_HEADER] = correlation_id
        return response
