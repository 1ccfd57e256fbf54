"""The customer-service consumer (complaints)."""

from celery import shared_task

from apps.complaints.services import complaint_filed_announce, complaint_update_announce
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="customer_service.notify_complaint_filed")
def notify_complaint_filed(self, event):
    complaint_filed_announce(event.complaint_id)


@shared_task(bind=True, base=ConsumerTask, name="customer_service.notify_complaint_updated")
def notify_complaint_updated(self, event):
    complaint_update_announce(
        event.complaint_id, change=event.change, comment_id=event.comment_id, version=event.version
    )
