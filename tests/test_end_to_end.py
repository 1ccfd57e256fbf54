"""Every worker service end to end: API request -> outbox -> RabbitMQ -> real worker
processes -> notification delivered (email to a file, SMS to the console backend's file,
in-app stored)."""

import datetime
import re
from urllib.parse import unquote

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.notifications.models import Notification
from apps.reporting.models import DailyPropertyStat
from apps.visitors.services import visitor_expect
from tests.conftest import NOTIFICATION_QUEUES, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

ALL_QUEUES = (
    "user_registration",
    "visitor_management",
    "repair_requests",
    "complaints",
    "reporting",
    *NOTIFICATION_QUEUES,
)


@pytest.fixture
def services(clean_queues, start_worker, tmp_path):
    env = {
        "NOTIFICATION_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "NOTIFICATION_EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "SMS_FILE_PATH": str(tmp_path / "sms.log"),
    }
    start_worker(*ALL_QUEUES, concurrency=2, env=env)
    return tmp_path


def sent(**filters):
    return Notification.objects.filter(status="sent", **filters)


def test_registration_email_carries_a_working_activation_link(services, world):
    response = APIClient().post(
        "/api/v1/auth/register/",
        {
            "email": "new.resident@example.com",
            "password": "a-long-unusual-passphrase-42",
            "name": "New Resident",
            "unit_code": world.a.unit.code,
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    user = User.objects.get(email="new.resident@example.com")
    assert not user.is_active
    wait_until(lambda: sent(user=user, channel="email").exists(), timeout=30, message="email")
    mail = "".join(p.read_text() for p in (services / "mail").iterdir())
    token = unquote(re.search(r"token=([^\s\"&<]+)", mail).group(1))
    confirmed = APIClient().post("/api/v1/auth/confirm/", {"token": token}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    user.refresh_from_db()
    assert user.is_active
    # A unit code only claims the unit: the manager hears of it, the claimant has no unit yet.
    manager = world.a.staff["manager"]
    wait_until(
        lambda: sent(user=manager, template="residency_claimed").count() == 2,
        timeout=30,
        message="the claim notifications",
    )
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/v1/auth/me/").json()["unit"] is None


def test_an_invitation_email_carries_a_token_that_registers_a_resident(services, world):
    manager = APIClient()
    manager.force_authenticate(world.a.staff["manager"])
    invited = manager.post(
        "/api/v1/invitations/",
        {"unit": world.a.unit.pk, "email": "invitee@example.com"},
        format="json",
    )
    assert invited.status_code == 201, invited.content
    wait_until(
        lambda: sent(address="invitee@example.com").exists(),
        timeout=30,
        message="the invitation email",
    )
    mail = "".join(p.read_text() for p in (services / "mail").iterdir())
    assert "To: invitee@example.com" in mail
    token = re.search(r"^([\w:-]{40,})$", mail, re.MULTILINE).group(1)
    response = APIClient().post(
        "/api/v1/auth/register/",
        {
            "email": "invitee@example.com",
            "password": "a-long-unusual-passphrase-42",
            "name": "In Vitee",
            "invitation_token": token,
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    residency = User.objects.get(email="invitee@example.com").residencies.get()
    assert (residency.unit, residency.status) == (world.a.unit, "approved")


def test_visitor_check_in_tells_security_on_duty_and_the_host(api, services, world):
    visitor = visitor_expect(
        host=world.a.resident,
        unit=world.a.unit,
        name="Ada Visitor",
        expected_arrival=timezone.now() + datetime.timedelta(hours=1),
    )
    security = world.user("security")
    response = api(security).post(f"/api/v1/visitors/{visitor.id}/check-in/")
    assert response.status_code == 200, response.content
    wait_until(
        lambda: (
            sent(user=security, template="visitor_arrived_security").exists()
            and sent(user=world.a.resident, template="visitor_arrived_host").exists()
        ),
        timeout=30,
        message="security and host told",
    )
    # Staff of the other property hear nothing.
    assert not Notification.objects.filter(user=world.user("security", "b")).exists()
    wait_until(
        lambda: DailyPropertyStat.objects.filter(property_id=world.a.property.id).exists(),
        message="visitor arrival reported",
    )


def test_urgent_repair_reaches_maintenance_and_the_manager_by_sms(api, services, world):
    manager, maintenance = world.user("manager"), world.user("maintenance")
    manager.phone = "+15550100"
    manager.save(update_fields=["phone"])
    response = api(world.a.resident).post(
        "/api/v1/repairs/",
        {"category": "plumbing", "description": "Burst pipe", "urgency": "urgent"},
        format="json",
    )
    assert response.status_code == 201, response.content
    wait_until(
        lambda: (
            sent(user=maintenance, template="repair_requested_staff").count() == 2
            and sent(user=manager, channel="sms").exists()
        ),
        timeout=30,
        message="maintenance (in-app and email) and manager (SMS) told",
    )
    sms_log = (services / "sms.log").read_text()
    assert "+15550100" in sms_log and f"#{response.json()['id']}" in sms_log


def test_complaint_reaches_customer_service(api, services, world):
    response = api(world.a.resident).post(
        "/api/v1/complaints/",
        {"category": "noise", "subject": "Loud music", "description": "Every night at 2am"},
        format="json",
    )
    assert response.status_code == 201, response.content
    staff = world.user("customer_service")
    wait_until(
        lambda: sent(user=staff, template="complaint_filed_staff").exists(),
        timeout=30,
        message="customer service told",
    )
    assert not Notification.objects.filter(user=world.user("customer_service", "b")).exists()
