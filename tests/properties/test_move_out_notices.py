"""Who is told of a move-out request, its decision and its withdrawal (#25), from the user's
seat through real workers: the demo resident (alice, Oak Court) asks in the API, the
property's managers are told (in-app always, email as they chose), the manager decides in
the API or the admin and alice is told once: the approved last day, or the manager's note.
When alice withdraws instead, the managers who were told are told it is gone; withdrawn
before any was told, it tells no one, whichever of its two events is handled first. Each
event is sent again (a relay's copy, a replay): no one is told twice. The payloads, and
that a refused step publishes nothing, are in test_move_out_requests.py (no workers)."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import Role
from apps.messaging.models import OutboxMessage, ProcessedMessage
from apps.notifications.models import Notification
from apps.properties.models import MoveOutRequest
from tests.conftest import queue_depth, wait_until
from tests.factories import NotificationPreferenceFactory, StaffAssignmentFactory, UserFactory
from tests.fixtures.demo import demo_install, login
from tests.properties.test_move_out_requests import DAY, TODAY, api_step, ask, users

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.broker]

ASKED, DECIDED = "move_out_requested_staff", "move_out_decision_resident"
WITHDRAWN = "move_out_withdrawn_staff"
CONSUMERS = {
    "move_out.requested": "email.notify_move_out_requested",
    "move_out.withdrawn": "email.notify_move_out_withdrawn",
}
WORKERS = ("user_registration", "notifications_in_app", "notifications_email")


def told(template, **where):
    return Notification.objects.filter(template=template, **where)


def held(event, move_out_id):
    """Hold the event's outbox row an hour (before the relay starts): `sent_again` sends it."""
    rows = OutboxMessage.objects.filter(event=event, payload__0__data__move_out_id=move_out_id)
    assert rows.update(not_before=timezone.now() + datetime.timedelta(hours=1)) == 1


def sent_again(event, move_out_id):
    """A copy of the event's outbox row (a new message id: the ledger does not stop it)."""
    [row] = OutboxMessage.objects.filter(event=event, payload__0__data__move_out_id=move_out_id)
    row.pk, row.published_at, row.not_before = None, None, None
    row.save()
    done = ProcessedMessage.objects.filter(message_id=str(row.pk))
    wait_until(lambda: done.exists(), message=f"the copy of {event} consumed")


def test_managers_are_told_of_a_request_and_the_resident_of_the_approval(
    clean_queues, start_worker, api
):
    demo_install()
    alice, manager = users("alice", "manager")
    oak = alice.residencies.get().unit.property
    # A second manager of Oak Court who turned email off for this category, and a manager
    # of another property.
    quiet = UserFactory(role=Role.MANAGER)
    StaffAssignmentFactory(staff=quiet, property=oak)
    NotificationPreferenceFactory(user=quiet, category="general", channel="email", enabled=False)
    elsewhere = StaffAssignmentFactory(staff=UserFactory(role=Role.MANAGER)).staff
    start_worker(*WORKERS, concurrency=2)

    last_day = TODAY() + 3 * DAY
    asked = ask(api, alice, end_date=str(last_day), note="New job in Lyon")
    assert asked.status_code == 201, asked.data
    move_out_id = asked.data["id"]
    wait_until(
        lambda: told(ASKED, status="sent").count() == 3, message="the managers told (3 notices)"
    )
    notices = told(ASKED)
    assert {(n.user, n.channel) for n in notices} == {
        (manager, "in_app"),
        (manager, "email"),
        (quiet, "in_app"),
    }
    mail = notices.get(user=manager, channel="email")
    assert str(last_day) in mail.subject and alice.email in mail.body_text
    assert "New job in Lyon" in mail.body_text
    assert f"/admin/properties/moveoutrequest/{move_out_id}/" in mail.body_text
    inbox = api(manager).get("/api/v1/notifications/").json()["results"]
    assert str(notices.get(user=manager, channel="in_app").pk) in [n["id"] for n in inbox]
    assert not told(ASKED, user=elsewhere).exists() and not told(ASKED, user=alice).exists()
    sent_again("move_out.requested", move_out_id)
    assert told(ASKED).count() == 3  # no one told twice

    # Nothing for alice until a manager decides.
    assert not told(DECIDED).exists()
    approved = api_step(api, manager, move_out_id, "approved", note="Good luck", version=1)
    assert approved.status_code == 200, approved.data
    wait_until(lambda: told(DECIDED, status="sent").count() == 2, message="alice told")
    assert {(n.user, n.channel) for n in told(DECIDED)} == {(alice, "in_app"), (alice, "email")}
    notice = told(DECIDED, channel="in_app").get()
    assert "approved" in notice.subject and str(last_day) in notice.subject
    assert f"Your last day there is {last_day}" in notice.body_text
    sent_again("move_out.decided", move_out_id)
    assert told(DECIDED).count() == 2
    assert told(ASKED).count() == 3
    assert queue_depth("user_registration.dlq") == 0


def test_a_rejection_in_the_admin_tells_the_resident_the_managers_note(
    clean_queues, start_worker, api
):
    demo_install()
    alice, manager = users("alice", "manager")
    start_worker(*WORKERS, concurrency=2)
    move_out = ask(api, alice, end_date=str(TODAY() + DAY)).data
    wait_until(lambda: told(ASKED, user=manager, status="sent").count() == 2)
    client = Client()
    assert login(client, "manager").status_code == 302
    page = f"/admin/properties/moveoutrequest/{move_out['id']}/step/rejected/"
    answer = client.post(page, {"workflow_apply": "1", "note": "Lease runs to June"})
    assert answer.status_code == 302, answer.content[:500]
    assert MoveOutRequest.objects.get(pk=move_out["id"]).status == "rejected"
    wait_until(lambda: told(DECIDED, status="sent").count() == 2, message="alice told")
    notice = told(DECIDED, user=alice, channel="email").get()
    assert "not approved" in notice.subject
    assert "Their note: Lease runs to June" in notice.body_text
    assert "Your last day" not in notice.body_text
    sent_again("move_out.decided", move_out["id"])
    assert told(DECIDED).count() == 2
    assert queue_depth("user_registration.dlq") == 0


def test_the_managers_told_of_a_request_are_told_of_its_withdrawal(clean_queues, start_worker, api):
    """The request's consumer ran first: exactly the managers it told hear of the
    withdrawal, on its channels (in-app always, email as they chose), once."""
    demo_install()
    alice, manager = users("alice", "manager")
    oak = alice.residencies.get().unit.property
    quiet = UserFactory(role=Role.MANAGER)
    StaffAssignmentFactory(staff=quiet, property=oak)
    NotificationPreferenceFactory(user=quiet, category="general", channel="email", enabled=False)
    elsewhere = StaffAssignmentFactory(staff=UserFactory(role=Role.MANAGER)).staff
    start_worker(*WORKERS, concurrency=2)

    last_day = TODAY() + 3 * DAY
    move_out_id = ask(api, alice, end_date=str(last_day)).data["id"]
    wait_until(lambda: told(ASKED, status="sent").count() == 3, message="the managers told")
    # A manager assigned since was never asked to review it: nothing to take back.
    latecomer = StaffAssignmentFactory(staff=UserFactory(role=Role.MANAGER), property=oak).staff
    withdrawn = api_step(api, alice, move_out_id, "withdrawn", version=1)
    assert withdrawn.status_code == 200, withdrawn.data
    wait_until(
        lambda: told(WITHDRAWN, status="sent").count() == 3,
        message="the managers told of the withdrawal (3 notices)",
    )
    notices = told(WITHDRAWN)
    assert {(n.user, n.channel) for n in notices} == {
        (manager, "in_app"),
        (manager, "email"),
        (quiet, "in_app"),
    }
    mail = notices.get(user=manager, channel="email")
    assert "withdrew" in mail.subject and str(last_day) in mail.subject
    assert alice.email in mail.body_text and "nothing left to approve" in mail.body_text
    inbox = api(manager).get("/api/v1/notifications/").json()["results"]
    assert str(notices.get(user=manager, channel="in_app").pk) in [n["id"] for n in inbox]
    for nobody in (elsewhere, latecomer, alice):
        assert not told(WITHDRAWN, user=nobody).exists()
    sent_again("move_out.withdrawn", move_out_id)
    assert told(WITHDRAWN).count() == 3  # no one told twice
    assert told(ASKED).count() == 3 and not told(DECIDED).exists()
    assert queue_depth("user_registration.dlq") == 0


@pytest.mark.parametrize("first", ["move_out.requested", "move_out.withdrawn"])
def test_a_request_withdrawn_before_any_manager_was_told_tells_no_one(
    clean_queues, start_worker, api, first
):
    """Withdrawn before the workers ran, its two events handled in either order: the
    request's consumer finds it withdrawn, the withdrawal's finds no one told."""
    demo_install()
    (alice,) = users("alice")
    move_out = ask(api, alice, end_date=str(TODAY() + DAY)).data
    withdrawn = api_step(api, alice, move_out["id"], "withdrawn", version=1)
    assert withdrawn.status_code == 200, withdrawn.data
    assert not OutboxMessage.objects.filter(event="move_out.decided").exists()
    [second] = {"move_out.requested", "move_out.withdrawn"} - {first}
    held(second, move_out["id"])
    start_worker(*WORKERS, concurrency=2)
    done = ProcessedMessage.objects.filter(consumer=CONSUMERS[first])
    wait_until(lambda: done.exists(), message=f"{first} consumed")
    assert not ProcessedMessage.objects.filter(consumer=CONSUMERS[second]).exists()
    sent_again(second, move_out["id"])
    assert not told(ASKED).exists() and not told(WITHDRAWN).exists()
    assert not told(DECIDED).exists()
    assert queue_depth("user_registration.dlq") == 0
