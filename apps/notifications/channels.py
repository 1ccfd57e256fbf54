"""Channel backends: how a rendered Notification leaves the building.

`channel_backend(channel)` returns the backend for a channel; the SMS backend is chosen by
settings.NOTIFICATION_SMS_BACKEND (a dotted path). A backend raises
`TransientDeliveryError` for failures worth a retry and `PermanentDeliveryError` for
those that are not.
"""

import logging
from pathlib import Path

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.notifications.models import Channel

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    pass


class TransientDeliveryError(DeliveryError, ConnectionError):
    """Worth another try: the downstream was unavailable (5xx, timeout, refused)."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help (e.g. the SMS gateway rejected the request with a 4xx)."""


class SmsWebhookTransientError(TransientDeliveryError):
    pass


class SmsWebhookPermanentError(PermanentDeliveryError):
    pass


class EmailBackend:
    """Django's email framework: text body plus an HTML alternative when there is one."""

    def send(self, notification, address):
        backend = settings.NOTIFICATION_EMAIL_BACKEND or None
        options = {}
        if backend and settings.NOTIFICATION_EMAIL_FILE_PATH:
            options["file_path"] = settings.NOTIFICATION_EMAIL_FILE_PATH
        connection = get_connection(backend=backend, fail_silently=False, **options)
        message = EmailMultiAlternatives(
            subject=notification.subject,
            body=notification.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            headers={"X-Notification-Id": str(notification.id)},
            connection=connection,
        )
        if notification.body_html:
            message.attach_alternative(notification.body_html, "text/html")
        message.send()


class InAppBackend:
    """In-app notifications are stored for the inbox; delivering just marks them sent."""

    def send(self, notification, address):
        return None


class ConsoleSmsBackend:
    """Development: log the SMS and append one line to settings.SMS_FILE_PATH."""

    def send(self, notification, address):
        fields = (timezone.now().isoformat(), str(notification.id), address)
        line = "\t".join(fields) + f"\t{notification.body_text!r}"
        logger.info("SMS to %s: %s", address, notification.body_text)
        path = settings.SMS_FILE_PATH
        if path:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as file:
                file.write(line + "\n")


class WebhookSmsBackend:
    """POST {"to", "body", "notification_id"} as JSON to settings.SMS_WEBHOOK_URL.

    A 5xx, 429, timeout or connection error is transient (retry); any other 4xx is
    permanent. The receiver can use notification_id to drop duplicates.
    """

    def send(self, notification, address):
        url = settings.SMS_WEBHOOK_URL
        if not url:
            raise SmsWebhookPermanentError("SMS_WEBHOOK_URL is not set")
        payload = {
            "to": address,
            "body": notification.body_text,
            "notification_id": str(notification.id),
        }
        try:
            response = requests.post(url, json=payload, timeout=settings.SMS_WEBHOOK_TIMEOUT)
        except requests.Timeout as exc:
            raise SmsWebhookTransientError(f"SMS webhook timed out: {exc}") from exc
        except requests.RequestException as exc:
            raise SmsWebhookTransientError(f"SMS webhook unreachable: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise SmsWebhookTransientError(
                f"SMS webhook answered {response.status_code}: {response.text[:200]}"
            )
        if response.status_code >= 400:
            raise SmsWebhookPermanentError(
                f"SMS webhook rejected the message with {response.status_code}: "
                f"{response.text[:200]}"
            )


def channel_backend(channel):
    if channel == Channel.EMAIL:
        return EmailBackend()
    if channel == Channel.SMS:
        return import_string(settings.NOTIFICATION_SMS_BACKEND)()
    if channel == Channel.IN_APP:
        return InAppBackend()
    raise PermanentDeliveryError(f"unknown channel {channel!r}")
