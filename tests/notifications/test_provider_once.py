"""Once at the provider, too: the attempt is committed before the provider is called,
the provider gets the notification id as idempotency key, and a redelivery that finds
an attempt without outcome never sends blind. Real workers, killed right after the
provider accepted a message (tests/probe/backends.py)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from apps.notifications.models import Notification
from apps.notifications.services import notification_request
from tests.conftest import NOTIFICATION_QUEUES, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class KeyedProvider:
    """A loopback SMS provider that honours `Idempotency-Key`: it records every request
    and sends (counts) one message per key."""

    def __init__(self):
        self.requests, self.sent = [], {}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key")
                provider.requests.append((key, body))
                provider.sent.setdefault(key, body)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def provider():
    keyed = KeyedProvider()
    yield keyed
    keyed.server.shutdown()


@pytest.fixture
def crashing_worker(clean_queues, start_worker, tmp_path):
    def start(**env):
        return start_worker(
            *NOTIFICATION_QUEUES, env={"PROBE_CRASH_MARKER": str(tmp_path / "crashed"), **env}
        )

    return start


def request(channel, address):
    with transaction.atomic():
        notification = notification_request(
            channel=channel,
            template="generic",
            variables={"content": "Lift out of order"},
            category="general",
            address=address,
        )
    return str(notification.id)


def settled(notification_id):
    notification = Notification.objects.get(id=notification_id)
    return notification if notification.status in ("sent", "failed", "unknown") else None


def test_webhook_worker_killed_after_send_resends_with_the_same_key(crashing_worker, provider):
    worker = crashing_worker(
        NOTIFICATION_SMS_BACKEND="tests.probe.backends.CrashingWebhookSms",
        SMS_WEBHOOK_URL=provider.url,
    )
    notification_id = request("sms", "+15550100")
    notification = wait_until(lambda: settled(notification_id), timeout=40)
    assert notification.status == "sent"
    assert "WorkerLostError" in worker.logs() or "exited" in worker.logs()
    # Two requests (the second after the crash), one key: the provider sent it once.
    assert [key for key, _ in provider.requests] == [notification_id, notification_id]
    assert list(provider.sent) == [notification_id]
    assert notification.attempts == 2
    details = [h.detail for h in notification.history.order_by("at", "id")]
    assert any("resent with the same idempotency key" in d for d in details)


def test_provider_without_keys_is_not_sent_blind_after_a_crash(crashing_worker, provider):
    crashing_worker(
        NOTIFICATION_SMS_BACKEND="tests.probe.backends.CrashingWebhookSmsWithoutKeys",
        SMS_WEBHOOK_URL=provider.url,
    )
    notification_id = request("sms", "+15550101")
    notification = wait_until(lambda: settled(notification_id), timeout=40)
    assert notification.status == "unknown"
    assert "no recorded outcome" in notification.last_error
    assert len(provider.requests) == 1  # not sent again


def test_file_sms_worker_killed_after_send_writes_one_line(crashing_worker, tmp_path):
    sms_file = tmp_path / "sms.log"
    crashing_worker(
        NOTIFICATION_SMS_BACKEND="tests.probe.backends.CrashingFileSms",
        SMS_FILE_PATH=str(sms_file),
    )
    notification_id = request("sms", "+15550102")
    notification = wait_until(lambda: settled(notification_id), timeout=40)
    assert notification.status == "sent" and notification.attempts == 2
    lines = sms_file.read_text().splitlines()
    assert len(lines) == 1 and lines[0].split("\t")[1] == notification_id


def test_file_email_worker_killed_after_send_writes_one_message(crashing_worker, tmp_path):
    mail_dir = tmp_path / "mail"
    crashing_worker(
        NOTIFICATION_EMAIL_BACKEND="tests.probe.backends.CrashingFileEmail",
        NOTIFICATION_EMAIL_FILE_PATH=str(mail_dir),
    )
    notification_id = request("email", "bob@example.com")
    notification = wait_until(lambda: settled(notification_id), timeout=40)
    assert notification.status == "sent" and notification.attempts == 2
    [message] = list(mail_dir.iterdir())
    assert f"Message-ID: <{notification_id}@" in message.read_text()
