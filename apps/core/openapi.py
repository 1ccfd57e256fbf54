"""The OpenAPI schema documents every answer an endpoint can give, errors included.

Clients are generated from the schema, so an error status that is not in it is a broken
contract. Each operation gets the error responses its shape makes possible; a view that
can answer more (e.g. 503 when the broker is down) lists them in `extra_error_statuses`.
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: field messages keyed by field name (or `detail`).",
    "401": "Not authenticated, or the token is invalid or expired.",
    "403": "Authenticated, but this role may never do this.",
    "404": "No such object among those visible to the user.",
    "409": "The object's current state or version does not allow this step; "
    "`detail` names the allowed steps.",
    "413": "The request body is too large.",
    "415": "Unsupported request content type.",
    "429": "Too many requests; retry after the time in `Retry-After`.",
    "503": "A service this operation depends on (the database, or the message broker) is "
    "unreachable; retry after the time in `Retry-After`.",
}

DETAIL_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "additionalProperties": True,
}
# DRF's 400 body: {field: [messages]} (nested for nested fields), or {"detail": ...}.
VALIDATION_SCHEMA = {"type": "object", "additionalProperties": True}


class ErrorDocumentingAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in sorted(self._error_statuses()):
            if status in responses:
                continue
            schema = VALIDATION_SCHEMA if status == "400" else DETAIL_SCHEMA
            responses[status] = {
                "description": ERROR_DESCRIPTIONS[status],
                "content": {"application/json": {"schema": schema}},
            }
        return responses

    def _error_statuses(self):
        # Any endpoint: a bad or expired token; its database session lost.
        statuses = {"401", "503"}
        unsafe = self.method in UNSAFE_METHODS
        has_path_parameters = "{" in self.path
        open_to_all = all(isinstance(p, AllowAny) for p in self.view.get_permissions())
        if unsafe or not open_to_all:
            statuses.add("403")  # a role that may not, or a session without CSRF token
        if unsafe or self._has_query_parameters():
            statuses.add("400")
        if has_path_parameters or self._is_list_view():
            statuses.add("404")  # an object not visible, or a page past the end
        if unsafe:
            statuses.update({"413", "415"})
        if unsafe and has_path_parameters:
            statuses.add("409")
        if self.view.get_throttles():
            statuses.add("429")
        statuses.update(str(s) for s in getattr(self.view, "extra_error_statuses", ()))
        return statuses

    def _has_query_parameters(self):
        return bool(self._get_filter_parameters() or self._get_pagination_parameters()) or any(
            getattr(p, "location", "query") == "query" for p in self.get_override_parameters()
        )
