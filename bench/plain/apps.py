from django.apps import AppConfig
from django.conf import settings


class PlainConfig(AppConfig):
    name = "bench.plain"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        if not settings.BENCH_PUBLISH:
            import celeryconfig

            # The repair is written as usual; only its outbox rows are left out.
            celeryconfig.EVENT_SUBSCRIPTIONS["repair.requested"] = []
