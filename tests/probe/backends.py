"""Channel backends for tests: each kills its worker process (or its database session)
right after the provider accepted a message (once per test, via a marker file), before the
outcome is committed."""

import os
from pathlib import Path

import psycopg2
from django.core.mail.backends import locmem, smtp
from django.db import connection

from apps.notifications.channels import ConsoleSmsBackend, FileEmailBackend, WebhookSmsBackend


def _first_time():
    try:
        Path(os.environ["PROBE_CRASH_MARKER"]).open("x").close()
    except FileExistsError:
        return False
    return True


def _crash_once():
    if _first_time():
        os._exit(1)  # like kill -9: no cleanup, no commit


def _database_session_terminate_once():
    """pg_terminate_backend of this process's own database session, from another one
    (only a session of this test database): its next query fails."""
    if not _first_time():
        return
    settings = connection.settings_dict
    pid = connection.connection.info.backend_pid
    admin = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"],
    )
    with admin:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid = %s AND datname = current_database()",
                [pid],
            )
    admin.close()


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


class CrashingSmtpEmail(smtp.EmailBackend):
    """SMTP (no idempotency key); the worker dies once the server accepted a message."""

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        _crash_once()
        return sent


class DatabaseLosingSmtpEmail(smtp.EmailBackend):
    """SMTP (no idempotency key); the worker's database session is terminated once the
    server accepted a message, so the outcome cannot be written on it."""

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        _database_session_terminate_once()
        return sent


class TimingOutEmail(locmem.EmailBackend):
    """A mail server that never answers in time: the outcome of each send is unknown."""

    def send_messages(self, email_messages):
        raise TimeoutError("timed out waiting for the server's reply")
