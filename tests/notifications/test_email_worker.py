"""Email through a real notifications worker, written by Django's file-based backend."""

import pytest
from django.db import transaction

from apps.notifications.models import Notification
from apps.notifications.services import notification_request
from tests.conftest import wait_until

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_worker_sends_text_and_html_email(clean_queues, start_worker, tmp_path):
    start_worker(
        "notifications_email",
        env={
            "NOTIFICATION_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "NOTIFICATION_EMAIL_FILE_PATH": str(tmp_path),
        },
    )
    with transaction.atomic():
        notification = notification_request(
            channel="email",
            template="account_exists",
            variables={"name": "Bob", "login_url": "http://localhost:8000/login"},
            category="account",
            address="bob@example.com",
        )
    wait_until(lambda: Notification.objects.get(id=notification.id).status == "sent")
    [written] = list(tmp_path.iterdir())
    message = written.read_text()
    assert "To: bob@example.com" in message
    assert "text/plain" in message and "text/html" in message
    assert "http://localhost:8000/login" in message
    assert f"X-Notification-Id: {notification.id}" in message
