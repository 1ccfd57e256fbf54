import asyncio
import hmac

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from health_check.views import HealthCheckView
from prometheus_client import CONTENT_TYPE_LATEST

from apps.core.client import client_address_allowed
from apps.ops import metrics
from apps.ops.health import READINESS_CHECKS


@require_GET
def healthz(request):
    """Liveness: the process answers. Nothing else is touched."""
    return JsonResponse({"status": "ok"})


class ReadinessView(HealthCheckView):
    """Readiness: JSON with a status per check, 503 when any check fails."""

    checks = tuple(check for _, check in READINESS_CHECKS)

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        checks = {
            name: {
                "status": "fail" if result.error else "ok",
                **({"detail": result.error.message} if result.error else {}),
                "seconds": round(result.time_taken, 4),
            }
            for (name, _), result in zip(READINESS_CHECKS, results, strict=True)
        }
        ready = not any(result.error for result in results)
        return JsonResponse(
            {"status": "ok" if ready else "fail", "checks": checks}, status=200 if ready else 503
        )


def _metrics_allowed(request):
    token = settings.METRICS_TOKEN
    if token:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if hmac.compare_digest(supplied.encode(), token.encode()):
            return True
    return client_address_allowed(request, settings.METRICS_ALLOWED_ADDRESSES)


@require_GET
def metrics_view(request):
    """Prometheus exposition: web requests (django-prometheus), queues, outbox, dead
    letters. Only from METRICS_ALLOWED_ADDRESSES or with the METRICS_TOKEN bearer."""
    if not _metrics_allowed(request):
        return HttpResponseForbidden("metrics: local address or METRICS_TOKEN required\n")
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


@require_GET
def front_door(request):
    context = {"flower_url": settings.FLOWER_URL}
    if settings.DEMO_DATA:
        from apps.ops.management.commands.seed_demo import DEMO_PASSWORD, RESIDENTS, STAFF

        context["demo_logins"] = [
            *((name, role.label) for name, role, _ in STAFF),
            *((name, f"resident of {unit}") for name, unit in RESIDENTS),
        ]
        context["demo_password"] = DEMO_PASSWORD
    return render(request, "ops/index.html", context)
