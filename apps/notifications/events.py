"""Events the notifications app publishes (contract for consumers)."""

from apps.notifications.models import Channel

# {"notification_ids": ["<uuid>", ...]} (at most NOTIFICATION_BATCH_SIZE, all of one
# channel) -> that channel's batch consumer on its own queue (celeryconfig.py).
NOTIFICATION_BATCH_REQUESTED = {
    Channel.EMAIL: "notification.email_batch_requested",
    Channel.SMS: "notification.sms_batch_requested",
    Channel.IN_APP: "notification.in_app_batch_requested",
}
