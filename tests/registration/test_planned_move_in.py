"""A planned move-in by invitation (#25): the demo manager invites someone to a unit from a
day ahead; the invitee registers with the emailed token and confirms, and has no rights in
the unit until that day; on it the move job (a real worker, sent twice as beat may) starts
the residency: `residency.started` once, and the rights begin."""

import datetime

import pytest
from django.core.cache import cache
from django.db.models import F
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.messaging.models import OutboxMessage, ProcessedMessage
from apps.notifications.models import Notification
from apps.properties.models import Residency, Unit
from apps.properties.selectors import residencies_in_force
from apps.registration.models import Invitation
from apps.registration.services import user_confirm, user_confirmation_token_make
from propmgmt.celery import app
from tests.conftest import queue_depth, wait_until
from tests.factories import PASSWORD
from tests.fixtures.demo import demo_install, login

INVITATIONS, REGISTER = "/api/v1/invitations/", "/api/v1/auth/register/"
DAY = datetime.timedelta(days=1)


def manager_api():
    client = APIClient()
    client.force_authenticate(User.objects.get(username="manager"))
    return client


def rights(user):
    client = APIClient()
    client.force_authenticate(user)
    return {
        "units": client.get("/api/v1/units/").json()["count"],
        "repair": client.post(
            "/api/v1/repairs/", {"category": "pest", "description": "Ants"}, format="json"
        ).status_code,
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.broker
def test_an_invitation_with_a_planned_move_in_starts_on_its_day(clean_queues, start_worker):
    demo_install()
    cache.clear()
    unit = Unit.objects.get(code="OAK-202")
    start = timezone.localdate() + 2 * DAY
    start_worker("user_registration", "notifications_email", "reporting", concurrency=2)
    invited = manager_api().post(
        INVITATIONS,
        {"unit": unit.pk, "email": "newcomer@example.com", "start_date": str(start)},
        format="json",
    )
    assert invited.status_code == 201, invited.data
    assert invited.data["start_date"] == str(start)
    mail = Notification.objects.filter(address="newcomer@example.com")
    wait_until(lambda: mail.filter(status="sent").exists(), message="the invitation mailed")
    token = mail.get().variables["token"]
    body = {"email": "newcomer@example.com", "password": PASSWORD, "invitation_token": token}
    assert APIClient().post(REGISTER, body, format="json").status_code == 202
    newcomer = User.objects.get(email="newcomer@example.com")
    user_confirm(token=user_confirmation_token_make(newcomer))
    residency = Residency.objects.get(resident=newcomer)
    assert (residency.status, residency.start_date, residency.unit) == ("approved", start, unit)
    # Before the day: no rights in the unit, and the job starts nothing.
    assert rights(newcomer) == {"units": 0, "repair": 400}
    app.send_task("scheduled.residency_moves_process", expires=60)
    done = ProcessedMessage.objects.filter(consumer="scheduled.residency_moves_process")
    wait_until(lambda: done.count() == 1, message="the first run")
    started = OutboxMessage.objects.filter(event="residency.started")
    assert residency.pk not in {row.payload[0]["data"]["residency_id"] for row in started}
    # The day comes (the clock moved on: the residency's dates move back).
    Residency.objects.filter(pk=residency.pk).update(start_date=F("start_date") - 2 * DAY)
    for _ in range(2):
        app.send_task("scheduled.residency_moves_process", expires=60)
    wait_until(lambda: done.count() == 3, message="two more runs")
    mine = [row for row in started.all() if row.payload[0]["data"]["residency_id"] == residency.pk]
    assert len(mine) == len({row.task_name for row in mine}) >= 1  # once per subscriber
    assert Residency.objects.get(pk=residency.pk).started_at is not None
    assert residencies_in_force().filter(pk=residency.pk).exists()
    assert rights(newcomer) == {"units": 1, "repair": 201}
    assert queue_depth("reporting.dlq") == 0 and queue_depth("user_registration.dlq") == 0


@pytest.mark.django_db
def test_a_planned_move_in_in_the_past_is_refused():
    demo_install()
    cache.clear()
    unit = Unit.objects.get(code="OAK-202")
    yesterday = timezone.localdate() - DAY
    answer = manager_api().post(
        INVITATIONS,
        {"unit": unit.pk, "email": "late@example.com", "start_date": str(yesterday)},
        format="json",
    )
    assert answer.status_code == 400 and "in the past" in str(answer.data["start_date"])
    bad = manager_api().post(
        INVITATIONS, {"unit": unit.pk, "email": "x@example.com", "start_date": "soon"}, "json"
    )
    assert bad.status_code == 400 and "start_date" in bad.data
    assert not Invitation.objects.filter(email__in=["late@example.com", "x@example.com"])


@pytest.mark.django_db
def test_the_manager_plans_a_move_in_in_the_admin():
    demo_install()
    unit = Unit.objects.get(code="OAK-202")
    client = Client()
    assert login(client, "manager").status_code == 302
    page = "/admin/registration/invitation/add/"
    past = {"unit": unit.pk, "email": "a@example.com", "start_date": "2000-01-01"}
    refused = client.post(page, past)
    assert refused.status_code == 200
    assert "cannot be in the past" in str(refused.context["adminform"].form.errors)
    start = timezone.localdate() + 5 * DAY
    saved = client.post(page, {**past, "start_date": str(start)})
    assert saved.status_code == 302
    assert Invitation.objects.get(email="a@example.com").start_date == start
    # Without a day the residency starts when the invitation is accepted.
    assert (
        client.post(page, {**past, "email": "b@example.com", "start_date": ""}).status_code == 302
    )
    assert Invitation.objects.get(email="b@example.com").start_date is None
