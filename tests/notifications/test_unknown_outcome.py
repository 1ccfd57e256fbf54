"""Outcome unknown is never sent again blind. Through an SMTP server that honours no
idempotency key (tests/notifications/conftest.py records every message it accepts) and
real workers: an attempt the provider accepted but whose outcome was never recorded stays
`unknown` whatever happens next (the outcome write fails, the next delivery cannot
connect, the batch is dead-lettered and replayed); only an operator's resend, or the
at-least-once policy of emergencies, sends it again, marked as a possible duplicate."""

import io
import itertools
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from apps.accounts.models import Role
from apps.messaging.deadletters import dead_letter_replay, dead_letters_list
from apps.messaging.models import OutboxMessage
from apps.notifications.channels import POSSIBLE_DUPLICATE
from apps.notifications.models import Notification
from apps.notifications.services import (
    notifications_attempt_failed,
    notifications_deliver,
    notifications_request_for,
)
from tests.conftest import queue_depth, wait_until
from tests.factories import UserFactory

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
_emails = itertools.count()


def request_emails(count, category="announcement"):
    users = [UserFactory(email=f"resident{next(_emails)}@example.com") for _ in range(count)]
    with transaction.atomic():
        notifications = notifications_request_for(
            users,
            channel="email",
            template="generic",
            variables={"content": "Water off"},
            category=category,
        )
    return sorted(str(n.id) for n in notifications)  # the order a batch is sent in


def statuses(ids):
    return [Notification.objects.get(id=i).status for i in ids]


def settled(ids):
    return all(s in ("sent", "failed", "unknown") for s in statuses(ids))


def probe_env(smtp_provider, backend, tmp_path, **env):
    return smtp_provider.worker_env(
        backend=f"tests.probe.backends.{backend}",
        PROBE_CRASH_MARKER=str(tmp_path / "once"),
        NOTIFICATION_RETRY_BACKOFF="0",
        **env,
    )


def test_outcome_lost_with_the_database_session_stays_unknown(
    clean_queues, start_worker, smtp_provider, tmp_path
):
    """(a) The provider accepted the first email; the session that would record it was
    terminated. The retry sends the second, never the first again."""
    worker = start_worker(
        "notifications_email",
        env=probe_env(
            smtp_provider,
            "DatabaseLosingSmtpEmail",
            tmp_path,
        ),
    )
    first, second = request_emails(2)
    wait_until(lambda: settled([first, second]), timeout=60, message="batch settled")
    time.sleep(1)  # a wrong second copy would come now
    assert "terminating connection" in worker.logs() or "server closed" in worker.logs()
    assert statuses([first, second]) == ["unknown", "sent"]
    assert len(smtp_provider.copies(first)) == 1
    assert len(smtp_provider.copies(second)) == 1
    assert "no recorded outcome" in Notification.objects.get(id=first).last_error


def test_redelivery_that_cannot_connect_leaves_the_accepted_one_unknown(
    clean_queues, start_worker, smtp_provider, tmp_path
):
    """(b) The worker died after the provider accepted the first email; the redelivery
    and its retry cannot connect (421) before any attempt; the next retry sends only the
    second."""

    def refuse_after_the_first(message):
        if len(smtp_provider.received) == 1:
            smtp_provider.refuse = 2

    smtp_provider.on_accept = refuse_after_the_first
    start_worker("notifications_email", env=probe_env(smtp_provider, "CrashingSmtpEmail", tmp_path))
    first, second = request_emails(2)
    wait_until(lambda: settled([first, second]), timeout=60, message="batch settled")
    time.sleep(1)
    assert smtp_provider.refused == 2
    assert statuses([first, second]) == ["unknown", "sent"]
    assert len(smtp_provider.copies(first)) == 1
    assert len(smtp_provider.copies(second)) == 1


def test_dead_lettered_then_replayed_never_resends_the_unknown_one(
    clean_queues, start_worker, smtp_provider, tmp_path, api
):
    """(c) The worker died after the provider accepted the first email; the redelivery
    limit dead-letters the batch; the replay sends the second only. Then an operator's
    explicit resend sends the first once more, marked as a possible duplicate."""
    start_worker(
        "notifications_email",
        env=probe_env(
            smtp_provider,
            "CrashingSmtpEmail",
            tmp_path,
            MESSAGE_MAX_REDELIVERIES="0",
        ),
    )
    first, second = request_emails(2)
    wait_until(
        lambda: queue_depth("notifications_email.dlq") == 1, timeout=60, message="dead letter"
    )
    assert statuses([first, second]) == ["unknown", "failed"]

    [letter] = dead_letters_list("notifications_email")
    dead_letter_replay("notifications_email", letter["message_id"], via="test")
    wait_until(lambda: statuses([second]) == ["sent"], timeout=30, message="replayed")
    time.sleep(1)
    assert statuses([first, second]) == ["unknown", "sent"]
    assert [len(smtp_provider.copies(i)) for i in (first, second)] == [1, 1]

    # Only an administrator resends, and only what is unknown.
    resident = UserFactory()
    assert api(resident).post(f"/api/v1/notifications/{first}/resend/").status_code == 403
    admin = api(UserFactory(role=Role.ADMIN))
    refused = admin.post(f"/api/v1/notifications/{second}/resend/")
    assert refused.status_code == 409 and refused.json()["status"] == "sent"
    response = admin.post(f"/api/v1/notifications/{first}/resend/")
    assert response.status_code == 202, response.content
    wait_until(lambda: statuses([first]) == ["sent"], timeout=30, message="resent")
    time.sleep(1)
    original, copy = smtp_provider.copies(first)
    assert not original["Subject"].startswith(POSSIBLE_DUPLICATE)
    assert copy["Subject"].startswith(POSSIBLE_DUPLICATE) and copy["X-Possible-Duplicate"] == "1"
    assert copy["Message-ID"] == original["Message-ID"]
    assert len(smtp_provider.copies(second)) == 1
    # A second click while nothing is unknown any more is refused, not sent.
    assert admin.post(f"/api/v1/notifications/{first}/resend/").status_code == 409


def test_emergency_of_unknown_outcome_is_resent_after_the_bound(
    clean_queues, start_worker, smtp_provider, tmp_path
):
    """Emergencies are at least once: the unknown one is resent after
    NOTIFICATION_UNKNOWN_RESEND_AFTER seconds, marked as a possible duplicate; an
    ordinary one in the same batch of events stays at most once (the tests above)."""
    start_worker(
        "notifications_email",
        env=probe_env(
            smtp_provider,
            "CrashingSmtpEmail",
            tmp_path,
            NOTIFICATION_UNKNOWN_RESEND_AFTER="2",
        ),
    )
    [emergency] = request_emails(1, category="emergency")
    wait_until(lambda: statuses([emergency]) == ["sent"], timeout=60, message="resent")
    time.sleep(1)
    original, copy = smtp_provider.copies(emergency)
    assert copy["Subject"] == f"{POSSIBLE_DUPLICATE} {original['Subject']}"
    notification = Notification.objects.get(id=emergency)
    assert notification.resends == 1
    details = list(notification.history.values_list("status", "detail", flat=False))
    unknown_at = next(c.at for c in notification.history.all() if c.status == "unknown")
    resent_at = notification.history.get(detail__contains="resend 1 after an unknown").at
    assert (resent_at - unknown_at).total_seconds() >= 2, details


def timed_out_email(settings):
    """An email whose server never answered (in this process, as the consumer and its
    retry record it): its outcome is unknown."""
    settings.NOTIFICATION_EMAIL_BACKEND = "tests.probe.backends.TimingOutEmail"
    [notification_id] = request_emails(1)
    failures = notifications_deliver([notification_id])
    notifications_attempt_failed({i: repr(e) for i, e in failures.items()}, retry_in=1)
    assert statuses([notification_id]) == ["unknown"]
    return notification_id


@pytest.mark.django_db
def test_admin_action_resends_only_unknown_ones_once(settings, client):
    """The admin's explicit resend: an unknown one gets one resend message (a second
    click while it is on its way publishes nothing); anything else is refused."""
    unknown = timed_out_email(settings)
    [pending] = request_emails(1)
    client.force_login(UserFactory(role=Role.ADMIN))
    page = "/admin/notifications/notification/"

    def resend(*ids):
        return client.post(
            page, {"action": "resend_selected", "_selected_action": ids}, follow=True
        )

    def resend_messages():
        rows = OutboxMessage.objects.filter(payload__0__data__resend=True)
        return [row.payload[0]["data"]["notification_ids"] for row in rows]

    assert "can be resent" in resend(unknown, pending).content.decode()
    assert resend_messages() == []
    assert "1 notification(s) will be sent once more" in resend(unknown).content.decode()
    resend(unknown)
    assert resend_messages() == [[unknown]]
    history = Notification.objects.get(id=unknown).history.values_list("detail", flat=True)
    assert any(d.startswith("resend requested by") for d in history)


@pytest.mark.django_db
def test_manage_py_resends_only_unknown_ones(settings):
    unknown = timed_out_email(settings)
    [pending] = request_emails(1)
    with pytest.raises(CommandError, match="can be resent"):
        call_command("notifications_resend", unknown, pending)
    with pytest.raises(CommandError, match="valid UUID"):
        call_command("notifications_resend", "not-an-id")
    out = io.StringIO()
    call_command("notifications_resend", unknown, stdout=out)
    assert "1 notification(s) will be resent" in out.getvalue()
    [row] = OutboxMessage.objects.filter(payload__0__data__resend=True)
    assert row.payload[0]["data"]["notification_ids"] == [unknown]
