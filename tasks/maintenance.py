"""The maintenance consumer (repair_requests, a priority queue)."""

from apps.messaging.consumers import Consumer
from apps.repairs.services import repair_request_announce, repair_status_announce

consumer = Consumer("maintenance", queues=["repair_requests"], priority=True, concurrency=1)


@consumer.task("maintenance.notify_repair_requested", subscribes=["repair.requested"])
def notify_repair_requested(self, event):
    repair_request_announce(event.repair_id)


@consumer.task("maintenance.notify_repair_status_changed", subscribes=["repair.status_changed"])
def notify_repair_status_changed(self, event):
    repair_status_announce(event.repair_id, event.version)
