"""The maintenance consumer (repair_requests, a priority queue)."""

from celery import shared_task

from apps.repairs.services import repair_request_announce, repair_status_announce
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="maintenance.notify_repair_requested")
def notify_repair_requested(self, event):
    repair_request_announce(event.repair_id)


@shared_task(bind=True, base=ConsumerTask, name="maintenance.notify_repair_status_changed")
def notify_repair_status_changed(self, event):
    repair_status_announce(event.repair_id, event.version)
