from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"

    def ready(self):
        from celery.signals import after_task_publish

        from apps.messaging.correlation import log_published

        after_task_publish.connect(log_published, weak=False, dispatch_uid="ops.log_published")
