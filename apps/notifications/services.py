"""Writes of the notifications app.

Other apps (and their consumers) ask for a notification with `notification_request`;
the notifications consumer delivers it with `notification_deliver`.
"""

import logging

from django.db import transaction
from django.utils import timezone

from apps.messaging.publisher import publish
from apps.notifications.channels import channel_backend
from apps.notifications.events import NOTIFICATION_REQUESTED
from apps.notifications.models import (
    Category,
    Channel,
    Notification,
    NotificationPreference,
    NotificationStatusChange,
    Status,
)
from apps.notifications.rendering import template_render
from apps.notifications.selectors import MANDATORY_CATEGORIES, preference_enabled

logger = logging.getLogger(__name__)


class NotificationRequestError(ValueError):
    pass


def _status_set(notification, status, detail=""):
    notification.status = status
    NotificationStatusChange.objects.create(
        notification=notification, status=status, detail=detail[:5000]
    )


def _address_for(channel, user, address):
    if address or channel == Channel.IN_APP:
        return address
    if user is None:
        return ""
    return user.email if channel == Channel.EMAIL else (user.phone or "")


def notification_request(
    *,
    channel,
    template,
    variables,
    category,
    user=None,
    address="",
    subject=None,
    requested_by=None,
    explicit=False,
):
    """Create a pending Notification and publish notification.requested in one transaction.

    Returns None (and creates nothing) when `user` opted out of `category` over `channel`
    (see selectors.preference_enabled; `explicit=True` means the sender chose this channel
    for this one message, which turns SMS on unless the user switched it off), or when the
    user has no address for the channel (e.g. SMS to a user without a phone). Raises
    NotificationRequestError for an unknown channel/category/template or no recipient.
    The body is rendered now, so template errors surface to the caller.
    """
    if channel not in Channel.values:
        raise NotificationRequestError(f"unknown channel {channel!r}")
    if category not in Category.values:
        raise NotificationRequestError(f"unknown category {category!r}")
    if user is None and not address:
        raise NotificationRequestError("a notification needs a user or an address")
    if channel == Channel.IN_APP and user is None:
        raise NotificationRequestError("an in-app notification needs a user")
    if user is not None and not preference_enabled(user, category, channel, explicit=explicit):
        logger.info("user %s opted out of %s over %s", user.pk, category, channel)
        return None
    resolved = _address_for(channel, user, address)
    if channel != Channel.IN_APP and not resolved:
        logger.info("user %s has no address for %s; %s not sent", user.pk, channel, template)
        return None
    variables = dict(variables or {})
    try:
        rendered_subject, body_text, body_html = template_render(
            template, variables, html=channel == Channel.EMAIL
        )
    except ValueError as exc:
        raise NotificationRequestError(str(exc)) from exc
    with transaction.atomic():
        notification = Notification.objects.create(
            channel=channel,
            user=user,
            address=address,
            category=category,
            template=template,
            subject=subject if subject is not None else rendered_subject,
            body_text=body_text,
            body_html=body_html,
            variables=variables,
            requested_by=requested_by,
        )
        NotificationStatusChange.objects.create(
            notification=notification, status=Status.PENDING, detail="requested"
        )
        publish(NOTIFICATION_REQUESTED, {"notification_id": str(notification.id)})
    return notification


def notification_render(notification):
    """Fill subject/body from the template if they are empty (not saved)."""
    subject, body_text, body_html = template_render(
        notification.template, notification.variables, html=notification.channel == Channel.EMAIL
    )
    notification.subject = notification.subject or subject
    notification.body_text = body_text
    notification.body_html = notification.body_html or body_html


def notification_deliver(notification_id):
    """Send a notification through its channel: once per notification, and once at the
    provider as far as the provider allows.

    1. Under a row lock, and committed before the provider is called: the attempt
       (`attempts`, status processing, `attempt_started_at`). A notification already
       sent is left alone.
    2. The provider is called with the notification's idempotency key, holding no lock
       and no transaction.
    3. The outcome is committed (sent; a failure is recorded by the consumer through
       `notification_attempt_failed` / `notification_mark_failed`).

    A redelivery that finds an attempt without outcome (its worker died between 1 and
    3) sends again with the same key only where the provider honours it; otherwise the
    notification is marked `unknown` for an operator and nothing is sent blind.
    Call it outside any transaction (the notifications consumer does), or step 1 is
    not committed before the provider is called.
    """
    notification, backend, address = _attempt_start(notification_id)
    if backend is None:
        return notification
    backend.send(notification, address)
    with transaction.atomic():
        notification = Notification.objects.select_for_update(of=("self",)).get(id=notification_id)
        notification.sent_at = timezone.now()
        notification.attempt_started_at = None
        notification.last_error = ""
        _status_set(notification, Status.SENT, f"{notification.channel} to {address or 'inbox'}")
        notification.save()
    return notification


def _attempt_start(notification_id):
    """Record the attempt (committed when called outside a transaction); return the
    notification, and the backend and address to send with, or no backend to send none."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(id=notification_id)
        )
        if notification.status in (Status.SENT, Status.UNKNOWN):
            logger.info(
                "notification %s is %s; not sending again", notification_id, notification.status
            )
            return notification, None, None
        backend = channel_backend(notification.channel)
        detail = ""
        if notification.attempt_started_at is not None:
            started = notification.attempt_started_at.isoformat()
            if not backend.honours_idempotency_key:
                reason = (
                    f"attempt {notification.attempts} started at {started} has no recorded "
                    "outcome and the provider does not honour an idempotency key: not sent "
                    "again; check with the provider whether it was delivered"
                )
                logger.error("notification %s: %s", notification_id, reason)
                notification.attempt_started_at = None
                notification.last_error = reason
                _status_set(notification, Status.UNKNOWN, reason)
                notification.save()
                return notification, None, None
            detail = f"; resent with the same idempotency key after attempt from {started}"
            logger.warning("notification %s: attempt without outcome%s", notification_id, detail)
        if not notification.is_rendered:
            notification_render(notification)
        address = _address_for(notification.channel, notification.user, notification.address)
        notification.attempts += 1
        notification.attempt_started_at = timezone.now()
        _status_set(notification, Status.PROCESSING, f"attempt {notification.attempts}{detail}")
        notification.save()
    return notification, backend, address


def notification_attempt_failed(notification_id, error, *, retry_in=None):
    """Record the outcome of a failed attempt that will be retried."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(id=notification_id).first()
        if notification is None or notification.status in (Status.SENT, Status.FAILED):
            return notification
        notification.attempt_started_at = None
        notification.last_error = str(error)[:5000]
        when = f"; retry in {retry_in}s" if retry_in is not None else ""
        _status_set(
            notification,
            Status.PENDING,
            f"attempt {notification.attempts} failed: {error}{when}",
        )
        notification.save(update_fields=["attempt_started_at", "last_error", "status"])
    return notification


def notification_mark_failed(notification_id, reason):
    """Mark a notification failed with `reason` (retries exhausted or permanent error).

    A sent notification stays sent.
    """
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(id=notification_id).first()
        if notification is None:
            logger.warning("notification %s to mark failed does not exist", notification_id)
            return None
        if notification.status == Status.SENT:
            return notification
        notification.attempt_started_at = None
        notification.last_error = str(reason)[:5000]
        _status_set(notification, Status.FAILED, str(reason))
        notification.save(update_fields=["attempt_started_at", "last_error", "status"])
    return notification


def notification_mark_read(notification):
    """Mark an in-app notification read (idempotent: the first read time is kept)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(user):
    return Notification.objects.filter(
        user=user, channel=Channel.IN_APP, read_at__isnull=True
    ).update(read_at=timezone.now())


def preferences_update(user, items):
    """Store explicit preferences: items of {"category", "channel", "enabled"}.

    Mandatory categories cannot be switched off (NotificationRequestError)."""
    with transaction.atomic():
        for item in items:
            if item["category"] in MANDATORY_CATEGORIES and not item["enabled"]:
                raise NotificationRequestError(
                    f"{item['category']} notifications cannot be switched off"
                )
            NotificationPreference.objects.update_or_create(
                user=user,
                category=item["category"],
                channel=item["channel"],
                defaults={"enabled": item["enabled"]},
            )


def notifications_request_for(users, **request):
    """`notification_request` for each of `users`; the ones actually created."""
    created = (notification_request(user=user, **request) for user in users)
    return [notification for notification in created if notification is not None]
