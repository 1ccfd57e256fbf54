"""The security consumer (visitor_management): a visitor arrived."""

from apps.messaging.consumers import Consumer
from apps.visitors.services import visitor_arrival_announce

consumer = Consumer("security", queues=["visitor_management"])


@consumer.task("security.notify_visitor_arrived", subscribes=["visitor.arrived"])
def notify_visitor_arrived(self, event):
    visitor_arrival_announce(event.visitor_id)
