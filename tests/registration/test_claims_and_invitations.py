"""Who may become a resident: a unit code alone gives a pending claim and no rights until a
manager approves it; an invitation's single-use, expiring token gives an approved residency
(on registration or for a logged-in account)."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.messaging.models import OutboxMessage
from apps.notifications.models import Notification
from apps.properties.models import Residency
from apps.properties.selectors import properties_visible_to, units_visible_to
from apps.registration.models import Invitation
from apps.registration.services import (
    invitation_send,
    residency_claim_notify,
    residency_decision_send,
    user_confirm,
    user_confirmation_token_make,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

REGISTER, ACCEPT = "/api/v1/auth/register/", "/api/v1/auth/invitations/accept/"
INVITATIONS, RESIDENCIES = "/api/v1/invitations/", "/api/v1/residencies/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def register(email="stranger@example.com", **body):
    body = {"email": email, "password": PASSWORD, "name": "Sam Stranger", **body}
    return APIClient().post(REGISTER, body, format="json")


def registered_and_confirmed(email="stranger@example.com", **body):
    assert register(email, **body).status_code == 202
    user = User.objects.get(email=email)
    return user_confirm(token=user_confirmation_token_make(user))


def outbox(event):
    return list(OutboxMessage.objects.filter(event=event).order_by("created_at"))


# --- claims ---------------------------------------------------------------------------------
def test_a_stranger_with_a_unit_code_is_not_a_resident_until_approved(api, world):
    stranger = registered_and_confirmed(unit_code=world.a.unit.code)
    assert stranger.is_active  # can log in ...
    [claim] = Residency.objects.filter(resident=stranger)
    assert claim.status == "pending"
    # ... but has no rights in any unit
    assert not units_visible_to(stranger).exists() and not properties_visible_to(stranger).exists()
    client = api(stranger)
    me = client.get("/api/v1/auth/me/").json()
    assert (me["unit"], me["property_ids"]) == (None, [])
    expected = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    visitor = client.post(
        "/api/v1/visitors/", {"name": "Eve", "expected_arrival": expected}, format="json"
    )
    assert visitor.status_code == 400, visitor.content
    complaint = client.post(
        "/api/v1/complaints/",
        {"category": "noise", "subject": "s", "description": "d", "unit": world.a.unit.pk},
        format="json",
    )
    assert complaint.status_code == 400, complaint.content
    assert client.get(f"/api/v1/units/{world.a.unit.pk}/").status_code == 404
    assert client.get("/api/v1/repairs/").json()["results"] == []


def test_confirming_tells_the_managers_and_approval_gives_the_unit(api, world):
    stranger = registered_and_confirmed(unit_code=world.a.unit.code)
    [claim] = Residency.objects.filter(resident=stranger)
    [event] = outbox("residency.claimed")
    assert event.task_name == "email.notify_residency_claimed"
    assert event.payload[0]["data"]["residency_id"] == claim.pk
    manager = world.a.staff["manager"]
    notifications = residency_claim_notify(claim.pk)
    assert {(n.user, n.channel) for n in notifications} == {(manager, "in_app"), (manager, "email")}
    assert stranger.email in notifications[1].body_text

    approved = api(manager).post(f"{RESIDENCIES}{claim.pk}/approve/")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert list(units_visible_to(stranger)) == [world.a.unit]
    [decided] = outbox("residency.decided")
    assert decided.task_name == "email.send_residency_decision"
    mail = residency_decision_send(claim.pk)
    assert mail.user == stranger and "approved you" in mail.body_text

    again = api(manager).post(f"{RESIDENCIES}{claim.pk}/reject/")
    assert again.status_code == 409
    assert again.json()["allowed_transitions"] == [] and "approved" in again.json()["detail"]


def test_rejection_ends_the_claim_and_is_mailed(api, world):
    stranger = registered_and_confirmed(unit_code=world.a.unit.code)
    claim = Residency.objects.get(resident=stranger)
    rejected = api(world.admin).post(f"{RESIDENCIES}{claim.pk}/reject/")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert not units_visible_to(stranger).exists()
    assert "did not approve" in residency_decision_send(claim.pk).body_text


def test_only_the_propertys_managers_decide(api, world):
    stranger = registered_and_confirmed(unit_code=world.a.unit.code)
    claim = Residency.objects.get(resident=stranger)
    approve = f"{RESIDENCIES}{claim.pk}/approve/"
    assert api(world.b.staff["manager"]).post(approve).status_code == 404
    for role in ("resident", "maintenance", "security", "customer_service"):
        assert api(world.user(role)).post(approve).status_code == 403
    assert api(stranger).post(approve).status_code == 403
    claim.refresh_from_db()
    assert claim.status == "pending"
    pending = api(world.a.staff["manager"]).get(RESIDENCIES, {"status": "pending"}).json()
    assert [row["id"] for row in pending["results"]] == [claim.pk]


def test_registration_answers_the_same_for_existing_accounts(world):
    first = register("someone.new@example.com", unit_code=world.a.unit.code)
    again = register(world.b.resident.email, unit_code=world.a.unit.code)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert not Residency.objects.filter(resident=world.b.resident, unit=world.a.unit).exists()


def test_register_needs_a_unit_code_or_an_invitation(world):
    neither = register()
    assert neither.status_code == 400 and "unit_code" in neither.json()
    both = register(unit_code=world.a.unit.code, invitation_token="x")
    assert both.status_code == 400 and "unit_code" in both.json()


# --- invitations ----------------------------------------------------------------------------
def invite(api, world, email="invitee@example.com", unit=None):
    response = api(world.a.staff["manager"]).post(
        INVITATIONS, {"unit": (unit or world.a.unit).pk, "email": email}, format="json"
    )
    assert response.status_code == 201, response.content
    invitation = Invitation.objects.get(pk=response.json()["id"])
    [event] = outbox("invitation.created")[-1:]
    assert event.task_name == "email.send_invitation"
    mail = invitation_send(invitation.pk)
    assert mail.address == email and world.a.unit.code in mail.subject
    return invitation, mail.variables["token"]


def test_registering_with_an_invitation_gives_an_approved_residency(api, world):
    invitation, token = invite(api, world)
    assert token in Notification.objects.get(address="invitee@example.com").body_text
    new = registered_and_confirmed("invitee@example.com", invitation_token=token)
    [residency] = Residency.objects.filter(resident=new)
    assert (residency.unit, residency.status) == (world.a.unit, "approved")
    assert list(units_visible_to(new)) == [world.a.unit]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == ("accepted", new)
    assert outbox("residency.claimed") == []  # nothing for the managers to approve
    reused = register("another@example.com", invitation_token=token)
    assert reused.status_code == 400 and "invitation_token" in reused.json()
    assert not User.objects.filter(email="another@example.com").exists()


def test_a_logged_in_account_accepts_an_invitation_once(api, world):
    _, token = invite(api, world, email=world.neighbour.email)
    client = api(world.neighbour)
    accepted = client.post(ACCEPT, {"token": token}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["unit"], accepted.json()["status"]) == (world.a.unit.pk, "approved")
    assert world.a.unit in units_visible_to(world.neighbour)
    again = client.post(ACCEPT, {"token": token}, format="json")
    assert again.status_code == 400 and "token" in again.json()


def test_expired_revoked_forged_and_staff_acceptances_are_refused(api, world, settings):
    _, token = invite(api, world)
    staff = api(world.a.staff["security"]).post(ACCEPT, {"token": token}, format="json")
    assert staff.status_code == 400
    settings.INVITATION_MAX_AGE = -1
    expired = api(world.b.resident).post(ACCEPT, {"token": token}, format="json")
    assert expired.status_code == 400 and "expired" in expired.json()["token"][0]
    settings.INVITATION_MAX_AGE = 3600
    revoked, revoked_token = invite(api, world, email="r@example.com")
    manager = api(world.a.staff["manager"])
    assert manager.post(f"{INVITATIONS}{revoked.pk}/revoke/").status_code == 200
    assert manager.post(f"{INVITATIONS}{revoked.pk}/revoke/").status_code == 409
    assert invitation_send(revoked.pk) is None  # a late event mails nothing
    refused = api(world.b.resident).post(ACCEPT, {"token": revoked_token}, format="json")
    assert refused.status_code == 400
    forged = api(world.b.resident).post(ACCEPT, {"token": token[:-2] + "xx"}, format="json")
    assert forged.status_code == 400
    assert not Residency.objects.filter(resident=world.b.resident, unit=world.a.unit).exists()


def test_a_manager_invites_only_to_their_own_properties(api, world):
    foreign = api(world.a.staff["manager"]).post(
        INVITATIONS, {"unit": world.b.unit.pk, "email": "x@example.com"}, format="json"
    )
    assert foreign.status_code == 400 and "unit" in foreign.json()
    for role in ("resident", "maintenance", "security", "customer_service"):
        response = api(world.user(role)).post(
            INVITATIONS, {"unit": world.a.unit.pk, "email": "x@example.com"}, format="json"
        )
        assert response.status_code == 403
    assert not Invitation.objects.exists()
