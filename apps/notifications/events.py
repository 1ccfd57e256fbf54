"""Events the notifications app publishes (contract for consumers)."""

# {"notification_id": "<uuid>"} -> notifications.deliver on the notifications queue.
NOTIFICATION_REQUESTED = "notification.requested"
