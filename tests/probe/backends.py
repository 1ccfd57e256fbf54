"""Channel backends for tests: each kills its worker process right after the provider
accepted a message (once per test, via a marker file), before the outcome is committed."""

import os
from pathlib import Path

from django.core.mail.backends import locmem

from apps.notifications.channels import ConsoleSmsBackend, FileEmailBackend, WebhookSmsBackend


def _crash_once():
    try:
        Path(os.environ["PROBE_CRASH_MARKER"]).open("x").close()
    except FileExistsError:
        return
    os._exit(1)  # like kill -9: no cleanup, no commit


class CrashingWebhookSms(WebhookSmsBackend):
    def send(self, notification, address):
        super().send(notification, address)
        _crash_once()


class CrashingWebhookSmsWithoutKeys(CrashingWebhookSms):
    """A provider that ignores idempotency keys."""

    honours_idempotency_key = False


class CrashingFileSms(ConsoleSmsBackend):
    def send(self, notification, address):
        super().send(notification, address)
        _crash_once()


class CrashingFileEmail(FileEmailBackend):
    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        _crash_once()
        return sent


class CountingLocmemEmail(locmem.EmailBackend):
    """Django's in-memory backend, counting the connections opened."""

    opened = 0

    def open(self):
        CountingLocmemEmail.opened += 1
        return super().open()


class KeyedCountingLocmemEmail(CountingLocmemEmail):
    """As a provider that drops a second message with the same Message-ID."""

    honours_idempotency_key = True
