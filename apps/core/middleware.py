"""Request guards that apply before any view runs."""

from django.conf import settings
from django.http import JsonResponse


class RequestBodyLimitMiddleware:
    """Refuse a body larger than REQUEST_MAX_BODY_BYTES with 413, before it is read.

    A declared Content-Length is checked here; a body sent without one is capped by
    DATA_UPLOAD_MAX_MEMORY_SIZE when read (the API's exception handler answers 413).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if length > settings.REQUEST_MAX_BODY_BYTES:
            return JsonResponse(
                {
                    "detail": f"Request body of {length} bytes is too large; "
                    f"the limit is {settings.REQUEST_MAX_BODY_BYTES} bytes."
                },
                status=413,
            )
        return self.get_response(request)


class ApiJsonErrorsMiddleware:
    """Every error under /api/ answers JSON, including those Django renders itself (a
    path that matches no route, a malformed request): API clients parse one format."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse({"detail": response.reason_phrase}, status=response.status_code)
        return response
