"""Who an announcement reaches, and what its managers learn about it, from an attacker's
seat: a stranger claiming a unit receives nothing, nor does a resident who moved out (who
moved in does), and a manager of one property of a multi-property announcement learns
nothing about the other properties."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.announcements import services
from apps.announcements.models import AnnouncementRecipient
from apps.notifications.models import Notification
from apps.properties.models import Residency
from apps.registration.services import user_confirm, user_confirmation_token_make
from tests.announcements.helpers import run_batches
from tests.factories import PASSWORD, ResidencyFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/announcements/"


def claimant(unit_code, email="stranger@example.com"):
    """A stranger who registered with a unit code and confirmed their email."""
    cache.clear()  # registration is throttled
    body = {"email": email, "password": PASSWORD, "name": "Sam Stranger", "unit_code": unit_code}
    assert APIClient().post("/api/v1/auth/register/", body, format="json").status_code == 202
    return user_confirm(token=user_confirmation_token_make(User.objects.get(email=email)))


def emergency_sent_by(client, site, **fields):
    """An emergency announcement by email and SMS to the site's residents, sent through
    the API and fanned out; its id."""
    body = {
        "properties": [site.property.pk],
        "title": "Gas leak",
        "body": "Leave now.",
        "category": "emergency",
        "channels": ["email", "sms"],
        **fields,
    }
    created = client.post(URL, body, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert client.post(f"{URL}{pk}/send/").status_code == 200
    services.announcement_plan(pk)
    run_batches(services.Announcement.objects.get(pk=pk))
    return pk


@pytest.mark.parametrize("decision", [None, "reject"])
def test_a_claimant_receives_no_announcement(world, api, decision):
    world.a.unit.floor = "3"
    world.a.unit.save()
    stranger = claimant(world.a.unit.code)
    manager = api(world.a.staff["manager"])
    if decision:  # a rejected claim ends today: it must not count for the rest of the day
        claim = Residency.objects.get(resident=stranger)
        assert manager.post(f"/api/v1/residencies/{claim.pk}/{decision}/").status_code == 200
    draft = manager.post(
        URL, {"properties": [world.a.property.pk], "title": "t", "body": "b"}, format="json"
    ).json()
    preview = manager.get(f"{URL}{draft['id']}/preview/").json()
    assert preview["recipients"] == 2  # the resident and the neighbour, not the stranger
    for fields in ({}, {"units": [world.a.unit.pk]}, {"floors": ["3"]}):
        pk = emergency_sent_by(manager, world.a, **fields)
        recipients = set(
            AnnouncementRecipient.objects.filter(announcement_id=pk).values_list("user", flat=True)
        )
        assert world.a.resident.pk in recipients and stranger.pk not in recipients
    assert not Notification.objects.filter(user=stranger, template="announcement").exists()
    assert api(stranger).get(URL).json()["results"] == []


@pytest.fixture
def two_property_announcement(world):
    """An admin's announcement to A and B, sent, with one failed delivery at each."""
    announcement = services.announcement_create(
        by=world.admin,
        properties=[world.a.property, world.b.property],
        title="Both",
        body="b",
        by_email=True,
    )
    services.announcement_send_now(announcement, by=world.admin)
    services.announcement_plan(announcement.pk)
    run_batches(announcement)
    for site in (world.a, world.b):
        recipient = AnnouncementRecipient.objects.get(announcement=announcement, user=site.resident)
        Notification.objects.filter(pk=recipient.email_notification_id).update(
            status="failed", last_error=f"mailbox of {site.resident.username} is full"
        )
    return announcement


def test_a_manager_sees_only_their_propertys_part(world, api, two_property_announcement):
    pk, a, b = two_property_announcement.pk, world.a.property.pk, world.b.property.pk
    oak = api(world.a.staff["manager"])
    assert oak.get(f"{URL}{pk}/preview/").json() == {"recipients": 2, "by_property": {str(a): 2}}
    failures = oak.get(f"{URL}{pk}/failures/").json()
    assert [row["username"] for row in failures] == [world.a.resident.username]
    detail = oak.get(f"{URL}{pk}/").json()
    assert world.b.resident.username not in str(detail)
    counts = detail["counts"]
    assert (counts["recipients"], counts["failed"], counts["batches"]) == (2, 1, 1)
    assert detail["recipients_planned"] == 2 and "3 recipients" not in str(detail["history"])
    [listed] = oak.get(URL).json()["results"]
    assert listed["recipients_planned"] == 2
    # The admin sees the whole.
    admin = api(world.admin)
    assert admin.get(f"{URL}{pk}/preview/").json()["by_property"] == {str(a): 2, str(b): 1}
    assert len(admin.get(f"{URL}{pk}/failures/").json()) == 2
    detail = admin.get(f"{URL}{pk}/").json()
    assert detail["counts"]["recipients"] == detail["recipients_planned"] == 3


def test_the_units_next_announcement_goes_to_who_lives_there_now(world, api):
    site = world.a
    former = site.resident
    residency = former.residencies.get()
    residency.end_date = timezone.localdate() - datetime.timedelta(days=1)
    residency.save()
    newcomer = ResidencyFactory(unit=site.unit, start_date=timezone.localdate()).resident
    pk = emergency_sent_by(api(site.staff["manager"]), site, units=[site.unit.pk])
    reached = AnnouncementRecipient.objects.filter(announcement_id=pk)
    assert set(reached.values_list("user", flat=True)) == {newcomer.pk}
    assert Notification.objects.filter(user=newcomer, template="announcement").count() == 2
    assert not Notification.objects.filter(user=former, template="announcement").exists()
    assert api(former).get(f"{URL}{pk}/").status_code == 404
    assert api(newcomer).get(f"{URL}{pk}/").status_code == 200
