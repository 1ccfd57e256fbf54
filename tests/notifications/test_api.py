"""The notification API: send (staff only), status, inbox, read, unread count, preferences."""

import pytest

from apps.messaging.models import OutboxMessage
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.services import notification_request

pytestmark = pytest.mark.django_db


def in_app(user, text="hello"):
    return notification_request(
        channel="in_app",
        template="generic",
        variables={"content": text},
        category="general",
        user=user,
    )


@pytest.mark.parametrize(
    "role", ["maintenance", "security", "customer_service", "manager", "admin"]
)
def test_staff_send_answers_202_with_a_status_url_and_enqueues(api, world, role):
    sender = world.user(role)
    response = api(sender).post(
        "/api/v1/notifications/send/",
        {"type": "email", "recipient": str(world.a.resident.id), "content": "Water off at 2pm"},
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    notification = Notification.objects.get(id=body["id"])
    assert notification.requested_by == sender and notification.status == "pending"
    assert "Water off at 2pm" in notification.body_text
    assert OutboxMessage.objects.filter(event="notification.email_batch_requested").count() == 1
    status = api(sender).get(body["status_url"]).json()
    assert status["status"] == "pending" and status["history"][0]["status"] == "pending"


def test_an_in_app_send_is_delivered_by_its_creation(api, world):
    sender = world.user("manager")
    response = api(sender).post(
        "/api/v1/notifications/send/",
        {"type": "in_app", "recipient": str(world.a.resident.id), "content": "Water off at 2pm"},
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert not OutboxMessage.objects.exists()  # no delivery message: nothing left to do
    status = api(sender).get(body["status_url"]).json()
    assert status["status"] == "sent"
    assert [h["status"] for h in status["history"]] == ["pending", "sent"]
    inbox = api(world.a.resident).get("/api/v1/notifications/")
    assert inbox.status_code == 200, inbox.content
    assert body["id"] in str(inbox.json())


def test_residents_may_not_send(api, world):
    response = api(world.a.resident).post(
        "/api/v1/notifications/send/",
        {"type": "email", "recipient": "x@example.com", "content": "hi"},
        format="json",
    )
    assert response.status_code == 403
    assert api(None).post("/api/v1/notifications/send/", {}).status_code == 401


def send(client, channel, recipient):
    return client.post(
        "/api/v1/notifications/send/",
        {"type": channel, "recipient": recipient, "content": "Buy cheap watches"},
        format="json",
    )


@pytest.mark.parametrize("role", ["maintenance", "security", "manager", "admin"])
def test_staff_are_no_open_relay(api, world, role, settings):
    """Free text goes only to the users of the sender's properties, by id or by their
    address; any other address is refused like another property's user, unless
    NOTIFICATION_SEND_ANY_ADDRESS allows it."""
    world.b.resident.phone = "+44 20 7946 0000"
    world.b.resident.save()
    client = api(world.user(role))
    outside = [("sms", "+15550100"), ("email", "victim@example.net")]
    if role != "admin":  # another property's users are outside too (an admin's are not)
        outside += [("sms", "+442079460000"), ("email", world.b.resident.email.upper())]
    answers = {send(client, channel, address).content for channel, address in outside}
    assert len(answers) == 1 and b"recipient" in answers.pop()
    assert not Notification.objects.exists() and not OutboxMessage.objects.exists()
    # A user of the sender's property by their address: sent to that user.
    world.a.resident.phone = "+1 (555) 0199"
    world.a.resident.save()
    for channel, address in (("email", world.a.resident.email), ("sms", "+15550199")):
        answer = send(client, channel, address)
        assert answer.status_code == 202, answer.content
        assert Notification.objects.get(id=answer.json()["id"]).user == world.a.resident
    settings.NOTIFICATION_SEND_ANY_ADDRESS = True
    assert send(client, "sms", "+15550100").status_code == 202


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "sms", "recipient": "someone@example.com", "content": "x"}, "recipient"),
        ({"type": "email", "recipient": "not-an-email", "content": "x"}, "recipient"),
        ({"type": "in_app", "recipient": "+15550100", "content": "x"}, "recipient"),
        ({"type": "in_app", "recipient": "999999", "content": "x"}, "recipient"),
        ({"type": "fax", "recipient": "1", "content": "x"}, "type"),
        ({"type": "email", "recipient": "a@example.com"}, "content"),
    ],
)
def test_bad_send_is_a_400_with_field_messages_and_creates_nothing(api, world, payload, field):
    response = api(world.user("manager")).post(
        "/api/v1/notifications/send/", payload, format="json"
    )
    assert response.status_code == 400 and field in response.json()
    assert not Notification.objects.exists() and not OutboxMessage.objects.exists()


def test_status_is_visible_to_sender_recipient_and_admin_only(api, world):
    notification = in_app(world.a.resident)
    url = f"/api/v1/notifications/{notification.id}/status/"
    assert api(world.a.resident).get(url).status_code == 200
    assert api(world.admin).get(url).status_code == 200
    assert api(world.b.resident).get(url).status_code == 404
    assert api(world.user("manager")).get(url).status_code == 404


def test_inbox_is_own_newest_first_with_unread_filter_read_and_count(api, world):
    first, second = in_app(world.a.resident, "first"), in_app(world.a.resident, "second")
    in_app(world.b.resident, "not yours")
    client = api(world.a.resident)
    inbox = client.get("/api/v1/notifications/").json()
    assert [n["id"] for n in inbox["results"]] == [str(second.id), str(first.id)]
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    assert client.post(f"/api/v1/notifications/{first.id}/read/").status_code == 200
    unread = client.get("/api/v1/notifications/", {"unread": "true"}).json()
    assert [n["id"] for n in unread["results"]] == [str(second.id)]
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    # Someone else's notification cannot be read (or even found).
    assert api(world.b.resident).post(f"/api/v1/notifications/{first.id}/read/").status_code == 404


def test_preferences_opt_out_stops_requests_and_account_is_mandatory(api, world):
    client = api(world.a.resident)
    off = [{"category": "general", "channel": "in_app", "enabled": False}]
    assert client.put("/api/v1/notifications/preferences/", off, format="json").status_code == 200
    assert in_app(world.a.resident) is None
    mandatory = [{"category": "account", "channel": "email", "enabled": False}]
    response = client.put("/api/v1/notifications/preferences/", mandatory, format="json")
    assert response.status_code == 400
    prefs = client.get("/api/v1/notifications/preferences/").json()
    general = next(p for p in prefs if (p["category"], p["channel"]) == ("general", "in_app"))
    assert general["enabled"] is False and general["is_default"] is False


def test_a_preference_list_is_capped(api, world, django_assert_max_num_queries):
    """Every (category, channel) pair once at most: a longer list is refused, unstored."""
    item = {"category": "general", "channel": "email", "enabled": False}
    with django_assert_max_num_queries(10):
        answer = api(world.a.resident).put(
            "/api/v1/notifications/preferences/", [item] * 10_000, format="json"
        )
    assert answer.status_code == 400 and "no more than" in str(answer.json())
    assert not NotificationPreference.objects.exists()
