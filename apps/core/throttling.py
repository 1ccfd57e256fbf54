"""The API's request-rate throttles, keyed by apps.core.client (never by a header the
client chose). Views use these, not rest_framework.throttling's classes."""

from rest_framework import throttling

from apps.core.client import client_identity


class ClientIdentityMixin:
    def get_ident(self, request):
        return client_identity(request)


class ScopedRateThrottle(ClientIdentityMixin, throttling.ScopedRateThrottle):
    """DRF's per-scope rate (DEFAULT_THROTTLE_RATES[view.throttle_scope]) per client."""
