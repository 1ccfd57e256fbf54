"""What the SMS webhook backend sends a provider (docs/MESSAGING.md "The SMS webhook"):
a JSON POST with the notification's id as `Idempotency-Key`, and with SMS_WEBHOOK_TOKEN
set, `Authorization: Bearer <token>` so the provider can refuse anyone else; which answers
are retried and which fail for good."""

import pytest
from django.db import transaction

from apps.notifications.channels import (
    SmsWebhookPermanentError,
    SmsWebhookTransientError,
    WebhookSmsBackend,
)
from apps.notifications.services import notification_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms(settings, webhook):
    settings.SMS_WEBHOOK_URL, settings.SMS_WEBHOOK_TIMEOUT = webhook.url, 2
    with transaction.atomic():
        return notification_request(
            channel="sms",
            template="generic",
            variables={"content": "Lift out of order"},
            category="general",
            address="+15550100",
        )


def test_the_request_carries_the_key_and_the_bearer_token(sms, webhook, settings):
    settings.SMS_WEBHOOK_TOKEN = "provider-shared-secret"
    webhook.status = 200
    with WebhookSmsBackend().opened() as backend:
        backend.send(sms, "+15550100")
    [(status, body)] = webhook.received
    assert body == {"to": "+15550100", "body": sms.body_text, "notification_id": str(sms.id)}
    [headers] = webhook.headers
    assert headers["Authorization"] == "Bearer provider-shared-secret"
    assert headers["Idempotency-Key"] == sms.idempotency_key
    assert headers["Content-Type"] == "application/json"


def test_without_a_token_no_authorization_header_is_sent(sms, webhook, settings):
    settings.SMS_WEBHOOK_TOKEN = ""
    webhook.status = 200
    WebhookSmsBackend().send(sms, "+15550100")
    assert "Authorization" not in webhook.headers[0]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, SmsWebhookTransientError),
        (503, SmsWebhookTransientError),
        (429, SmsWebhookTransientError),
        (400, SmsWebhookPermanentError),
        (401, SmsWebhookPermanentError),
        (404, SmsWebhookPermanentError),
    ],
)
def test_which_answers_retry_and_which_fail(sms, webhook, status, error):
    webhook.status = status
    with pytest.raises(error):
        WebhookSmsBackend().send(sms, "+15550100")
