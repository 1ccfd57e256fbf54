"""Shared by the announcements tests: announcements written through the service, and
what became of them."""

from collections import Counter

from apps.announcements import services
from apps.announcements.models import AnnouncementRecipient
from apps.messaging.models import OutboxMessage
from apps.notifications.models import Notification


def announce(world, *, site="a", by=None, **fields):
    site = getattr(world, site)
    fields = {"title": "Water off 9-12", "body": "Tomorrow.", **fields}
    fields.setdefault("properties", [site.property])
    return services.announcement_create(by=by or site.staff["manager"], **fields)


def batch_messages(announcement):
    """The announcement.batch payloads its plan published, in order."""
    rows = OutboxMessage.objects.filter(event="announcement.batch").order_by("created_at")
    payloads = [row.payload[0]["data"] for row in rows]
    return [p for p in payloads if p["announcement_id"] == announcement.pk]


def run_batches(announcement, **kwargs):
    for data in batch_messages(announcement):
        services.announcement_batch_send(
            data["announcement_id"], data["batch"], data["user_ids"], **kwargs
        )


def deliveries(announcement):
    """Counter of (user id, channel) over the notifications of the announcement's
    recipients: every value 1 means exactly once per recipient per channel."""
    ids = AnnouncementRecipient.objects.filter(announcement=announcement).values_list(
        "in_app_notification", "email_notification", "sms_notification"
    )
    notification_ids = {i for row in ids for i in row if i}
    notifications = Notification.objects.filter(
        id__in=notification_ids, template="announcement"
    ).values_list("user_id", "channel")
    return Counter(notifications)


def notifications_about(announcement):
    """Every announcement notification whose title is this one's (linked or not)."""
    return Notification.objects.filter(template="announcement", variables__title=announcement.title)


def draft(site, **fields):
    return services.announcement_create(
        by=site.staff["manager"],
        properties=[site.property],
        title=f"To {site.property}",
        body="Lift B out of service.",
        **fields,
    )


def sent(site):
    announcement = draft(site)
    services.announcement_send_now(announcement, by=site.staff["manager"])
    services.announcement_plan(announcement.pk)
    run_batches(announcement)
    return announcement


def delivery_message(notification):
    """The outbox row of the delivery batch that carries `notification`."""
    return OutboxMessage.objects.get(
        payload__0__data__notification_ids__contains=[str(notification.id)]
    )
