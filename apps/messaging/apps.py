from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "apps.messaging"
    label = "messaging"

    def ready(self):
        from celery.signals import task_prerun
        from django.utils.module_loading import autodiscover_modules

        # Every app's event types (apps/<app>/events.py), so that a consumer can decode
        # any envelope whatever modules its worker imported.
        autodiscover_modules("events")

        from apps.messaging.worker import database_connection_refresh

        task_prerun.connect(
            database_connection_refresh, weak=False, dispatch_uid="messaging.db_refresh"
        )
