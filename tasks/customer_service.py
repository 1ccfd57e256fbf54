"""The customer-service consumer (complaints)."""

from celery import shared_task

from apps.complaints.services import complaint_filed_announce, complaint_update_announce
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="customer_service.notify_complaint_filed")
def notify_complaint_filed(self, event):
    complaint_filed_announce(event["data"]["complaint_id"])


@shared_task(bind=True, base=ConsumerTask, name="customer_service.notify_complaint_updated")
def notify_complaint_updated(self, event):
    data = event["data"]
    complaint_update_announce(
        data["complaint_id"],
        change=data["change"],
        comment_id=data.get("comment_id"),
        version=data["version"],
    )
