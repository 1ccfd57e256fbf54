"""The customer-service consumer (complaints)."""

from apps.complaints.services import complaint_filed_announce, complaint_update_announce
from apps.messaging.consumers import Consumer

consumer = Consumer("customer_service", queues=["complaints"])


@consumer.task("customer_service.notify_complaint_filed", subscribes=["complaint.filed"])
def notify_complaint_filed(self, event):
    complaint_filed_announce(event.complaint_id)


@consumer.task("customer_service.notify_complaint_updated", subscribes=["complaint.updated"])
def notify_complaint_updated(self, event):
    complaint_update_announce(
        event.complaint_id, change=event.change, comment_id=event.comment_id, version=event.version
    )
