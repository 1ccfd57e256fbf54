"""The manager announces from the admin on the demo installation (seed_demo), with no
permission granted by the test: writes a draft for their property, schedules, sends and
cancels through the services, and follows progress and failures."""

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.announcements import services
from apps.announcements.models import Announcement, AnnouncementRecipient
from apps.messaging.models import OutboxMessage
from apps.notifications.services import notification_mark_failed
from apps.properties.models import Property
from tests.announcements.helpers import run_batches
from tests.fixtures.demo import login

pytestmark = pytest.mark.django_db
LIST = "/admin/announcements/announcement/"


@pytest.fixture
def manager_client(demo):
    client = Client()
    assert login(client, "manager").status_code == 302
    return client


def test_manager_writes_a_draft_for_their_property_only(manager_client):
    oak, elm = Property.objects.get(code="oak"), Property.objects.get(code="elm")
    form = {
        "properties": [oak.pk],
        "audience": "residents",
        "floors": "[]",
        "category": "general",
        "title": "Lift B out of service",
        "body": "Until Monday.",
        "by_email": "on",
    }
    assert manager_client.post(f"{LIST}add/", form).status_code == 302
    created = Announcement.objects.get(title="Lift B out of service")
    assert created.author == User.objects.get(username="manager")
    assert (created.status, list(created.properties.all()), created.channels) == (
        "draft",
        [oak],
        ["in_app", "email"],
    )
    assert list(created.history.values_list("to_status", flat=True)) == ["draft"]
    refused = manager_client.post(f"{LIST}add/", {**form, "properties": [elm.pk], "title": "x"})
    assert refused.status_code == 200 and not Announcement.objects.filter(title="x").exists()
    listing = manager_client.get(LIST).content.decode()
    assert "Lift B out of service" in listing and "Fire-alarm test on Friday" in listing


def test_other_properties_announcements_are_not_shown(manager_client):
    elm = services.announcement_create(
        by=User.objects.get(username="admin"),
        properties=[Property.objects.get(code="elm")],
        title="Elm only",
        body="b",
    )
    assert "Elm only" not in manager_client.get(LIST).content.decode()
    assert manager_client.get(f"{LIST}{elm.pk}/change/").status_code == 302  # not found


def test_schedule_send_and_cancel_are_the_services_steps(manager_client):
    draft = Announcement.objects.get(title="Fire-alarm test on Friday")
    base = f"{LIST}{draft.pk}/step/"
    scheduled = manager_client.post(
        f"{base}schedule/", {"workflow_apply": "1", "send_at": "2099-01-02 09:30"}
    )
    assert scheduled.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "scheduled"
    row = OutboxMessage.objects.get(event="announcement.send")
    assert row.not_before == draft.send_at
    assert manager_client.post(f"{base}send/", {"workflow_apply": "1"}).status_code == 302
    assert Announcement.objects.get(pk=draft.pk).status == "sending"
    assert manager_client.post(f"{base}cancel/", {"workflow_apply": "1"}).status_code == 302
    assert Announcement.objects.get(pk=draft.pk).status == "cancelled"
    # An illegal step is reported, not applied.
    page = manager_client.post(f"{base}send/", {"workflow_apply": "1"}, follow=True)
    assert "Allowed from" in page.content.decode()


def test_progress_and_failure_reasons_on_the_page(manager_client):
    draft = Announcement.objects.get(title="Fire-alarm test on Friday")
    services.announcement_send_now(draft, by=User.objects.get(username="manager"))
    services.announcement_plan(draft.pk)
    run_batches(draft)
    recipient = AnnouncementRecipient.objects.get(announcement=draft, user__username="alice")
    notification_mark_failed(recipient.email_notification_id, "SMTP 550: mailbox unavailable")
    page = manager_client.get(f"{LIST}{draft.pk}/change/").content.decode()
    assert (
        "1/1 batches; 2 recipients; deliveries: 2 sent, 1 pending, 1 failed" in page
    )  # in-app sent at creation
    assert "alice by email: SMTP 550: mailbox unavailable" in page


def test_a_manager_sees_only_their_propertys_part_of_a_shared_announcement(manager_client):
    """An admin's announcement to Oak Court and Elm House: Oak's manager sees Oak's
    recipients, counts and failures in the admin, never Elm's (as in the API)."""
    admin_user = User.objects.get(username="admin")
    shared = services.announcement_create(
        by=admin_user,
        properties=list(Property.objects.filter(code__in=["oak", "elm"])),
        title="Water off on Sunday",
        body="From 9 to 12.",
        by_email=True,
    )
    services.announcement_send_now(shared, by=admin_user)
    services.announcement_plan(shared.pk)
    run_batches(shared)
    carol = AnnouncementRecipient.objects.get(announcement=shared, user__username="carol")
    notification_mark_failed(carol.email_notification_id, "SMTP 550: carol's mailbox")
    oak_recipients = AnnouncementRecipient.objects.filter(
        announcement=shared, batch__property__code="oak"
    ).count()

    page = manager_client.get(f"{LIST}{shared.pk}/change/").content.decode()
    assert "carol" not in page and "0 failed" in page
    assert f"; {oak_recipients} recipients;" in page
    listing = manager_client.get(LIST).content.decode()
    shared.refresh_from_db()
    total = shared.recipients_planned
    assert total > oak_recipients
    assert f'<td class="field-recipients_planned">{total}</td>' not in listing
