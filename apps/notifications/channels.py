"""Channel backends: how a rendered Notification leaves the building.

`channel_backend(channel)` returns the backend for a channel; the SMS backend is chosen by
settings.NOTIFICATION_SMS_BACKEND (a dotted path). A backend raises
`TransientDeliveryError` for failures worth a retry and `PermanentDeliveryError` for
those that are not.

Every send carries the notification's idempotency key (its id): the SMS webhook as an
`Idempotency-Key` header, email as a stable `Message-ID`. `honours_idempotency_key`
says whether the provider drops a second send with the same key; only then may a
redelivery that finds an attempt without outcome send again (services.py).
"""

import contextlib
import fcntl
import logging
import smtplib
from email.utils import parseaddr
from pathlib import Path

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.filebased import EmailBackend as DjangoFileEmailBackend
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


# Marks a copy sent after an attempt of unknown outcome: the first may have arrived.
POSSIBLE_DUPLICATE = "[Possible duplicate]"


def marked(text, notification):
    """`text` (a subject or SMS body) marked when the copy may be a duplicate."""
    return f"{POSSIBLE_DUPLICATE} {text}" if notification.is_possible_duplicate else text


def message_id_for(notification):
    """A Message-ID that is the same on every attempt, from any host."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "propmgmt"
    return f"<{notification.idempotency_key}@{domain}>"


class ChannelBackend:
    """Sends one notification at a time; `opened()` holds what a batch shares (one SMTP
    connection, one HTTP session) while its notifications are sent."""

    honours_idempotency_key = False

    @contextlib.contextmanager
    def opened(self):
        yield self

    def send(self, notification, address):
        raise NotImplementedError

    def outcome_unknown(self, exc):
        """Whether `send` raising `exc` may still have delivered (a timeout waiting for
        the answer): that attempt stays open, never reset (services.py)."""
        return isinstance(exc, TimeoutError)


class FileEmailBackend(DjangoFileEmailBackend):
    """Development: one file per message in EMAIL_FILE_PATH, named by its Message-ID. A
    Message-ID already written is skipped, as a provider honouring the key would do."""

    honours_idempotency_key = True

    # One file per message (below), not Django's one stream per connection.
    def open(self):
        return False

    def close(self):
        pass

    def send_messages(self, email_messages):
        folder = Path(self.file_path)
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            key = message.extra_headers["Message-ID"].strip("<>")
            try:
                # Exclusive create: two processes sending one key write it once.
                with (folder / f"{key}.eml").open("xb") as file:
                    file.write(message.message().as_bytes())
            except FileExistsError:
                logger.info("email %s was already sent; not sending it again", key)
                continue
            sent += 1
        return sent


class EmailBackend(ChannelBackend):
    """Django's email framework: text body plus an HTML alternative when there is one;
    a batch shares one connection (one SMTP session)."""

    _connection = None

    def _backend(self):
        return settings.NOTIFICATION_EMAIL_BACKEND or settings.EMAIL_BACKEND

    @property
    def honours_idempotency_key(self):
        return getattr(import_string(self._backend()), "honours_idempotency_key", False)

    def _connection_new(self):
        options = {}
        if settings.NOTIFICATION_EMAIL_BACKEND and settings.NOTIFICATION_EMAIL_FILE_PATH:
            options["file_path"] = settings.NOTIFICATION_EMAIL_FILE_PATH
        return get_connection(backend=self._backend(), fail_silently=False, **options)

    @contextlib.contextmanager
    def opened(self):
        connection = self._connection_new()
        connection.open()
        self._connection = connection
        try:
            yield self
        finally:
            self._connection = None
            connection.close()

    def outcome_unknown(self, exc):
        # smtplib turns a timeout or a reset while waiting for a reply into
        # SMTPServerDisconnected; an SMTP error reply (SMTPException) is a known refusal.
        return isinstance(exc, smtplib.SMTPServerDisconnected) or (
            isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)
        )

    def send(self, notification, address):
        connection = self._connection or self._connection_new()
        headers = {
            "X-Notification-Id": str(notification.id),
            "Message-ID": message_id_for(notification),
        }
        if notification.is_possible_duplicate:
            headers["X-Possible-Duplicate"] = str(notification.resends)
        message = EmailMultiAlternatives(
            subject=marked(notification.subject, notification),
            body=notification.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            headers=headers,
            connection=connection,
        )
        if notification.body_html:
            message.attach_alternative(notification.body_html, "text/html")
        message.send()


class InAppBackend(ChannelBackend):
    """In-app notifications are stored for the inbox; delivering just marks them sent."""

    honours_idempotency_key = True  # nothing leaves the building

    def send(self, notification, address):
        return None


class ConsoleSmsBackend(ChannelBackend):
    """Development: log the SMS and append one line to settings.SMS_FILE_PATH.

    With a file it behaves like a provider that honours the idempotency key: a key
    already in the file is not written again (checked and appended under a file lock).
    """

    @property
    def honours_idempotency_key(self):
        return bool(settings.SMS_FILE_PATH)

    def send(self, notification, address):
        key = notification.idempotency_key
        fields = (timezone.now().isoformat(), key, address)
        body = marked(notification.body_text, notification)
        line = "\t".join(fields) + f"\t{body!r}"
        path = settings.SMS_FILE_PATH
        if not path:
            logger.info("SMS to %s: %s", address, body)
            return
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            file.seek(0)
            if any(written.split("\t", 2)[1:2] == [key] for written in file):
                logger.info("SMS %s was already sent; not sending it again", key)
                return
            logger.info("SMS to %s: %s", address, body)
            file.write(line + "\n")


class WebhookSmsBackend(ChannelBackend):
    """POST {"to", "body", "notification_id"} as JSON to settings.SMS_WEBHOOK_URL, with
    the notification id as `Idempotency-Key` header and, when SMS_WEBHOOK_TOKEN is set,
    `Authorization: Bearer <token>` (docs/MESSAGING.md "The SMS webhook").

    A 5xx, 429, timeout or connection error is transient (retry); any other 4xx is
    permanent. The provider is expected to honour the key (drop a second request with
    the same key), so a resend after an attempt without outcome is safe.
    """

    honours_idempotency_key = True
    _session = None

    @contextlib.contextmanager
    def opened(self):
        with requests.Session() as session:
            self._session = session
            try:
                yield self
            finally:
                self._session = None

    def send(self, notification, address):
        url = settings.SMS_WEBHOOK_URL
        if not url:
            raise SmsWebhookPermanentError("SMS_WEBHOOK_URL is not set")
        payload = {
            "to": address,
            "body": marked(notification.body_text, notification),
            "notification_id": str(notification.id),
        }
        try:
            response = (self._session or requests).post(
                url,
                json=payload,
                headers=_webhook_headers(notification),
                timeout=settings.SMS_WEBHOOK_TIMEOUT,
            )
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


def _webhook_headers(notification):
    headers = {"Idempotency-Key": notification.idempotency_key}
    if settings.SMS_WEBHOOK_TOKEN:
        headers["Authorization"] = f"Bearer {settings.SMS_WEBHOOK_TOKEN}"
    return headers


def channel_backend(channel):
    if channel == Channel.EMAIL:
        return EmailBackend()
    if channel == Channel.SMS:
        return import_string(settings.NOTIFICATION_SMS_BACKEND)()
    if channel == Channel.IN_APP:
        return InAppBackend()
    raise PermanentDeliveryError(f"unknown channel {channel!r}")
