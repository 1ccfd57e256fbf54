"""The security consumer (visitor_management): a visitor arrived."""

from celery import shared_task

from apps.visitors.services import visitor_arrival_announce
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="security.notify_visitor_arrived")
def notify_visitor_arrived(self, event):
    visitor_arrival_announce(event.visitor_id)
