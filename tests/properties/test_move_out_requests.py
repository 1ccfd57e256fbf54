"""A move-out requested by the resident and decided by a manager of the property (#25), from
the user's seat: the demo resident (alice, Oak Court) asks in the API, the demo manager
decides in the admin or the API; only an approved day becomes the residency's last, and the
move job (a real worker, sent twice as beat may) ends it once after that day."""

import datetime

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.messaging.models import OutboxMessage
from apps.properties.models import MoveOutRequest, Residency, Unit
from tests.factories import ResidencyFactory, UserFactory
from tests.fixtures.demo import login

MO = "/api/v1/move-outs/"
TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)


def users(*names):
    found = {u.username: u for u in User.objects.filter(username__in=names)}
    return [found[name] for name in names]


def residency_of(user):
    return Residency.objects.get(resident=user)


def ask(api, resident, **body):
    return api(resident).post(MO, body, format="json")


def api_step(api, user, move_out_id, status, **extra):
    return api(user).post(f"{MO}{move_out_id}/transition/", {"status": status, **extra}, "json")


def the_day_passes(residency):
    """The clock moves a day on: the residency's dates move a day back."""
    Residency.objects.filter(pk=residency.pk).update(
        start_date=F("start_date") - DAY, end_date=F("end_date") - DAY
    )


# --- from the API and the admin, without workers -----------------------------------------
pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_bad_dates_answer_400_with_field_messages(demo, api):
    (alice,) = users("alice")
    cases = {
        str(TODAY() - DAY): "cannot be in the past",
        "2026-02-30": "Date has wrong format",
        "": "Date has wrong format",
    }
    for end_date, message in cases.items():
        answer = ask(api, alice, end_date=end_date)
        assert answer.status_code == 400, answer.data
        assert message in str(answer.data["end_date"]), answer.data
    missing = ask(api, alice)
    assert missing.status_code == 400 and "end_date" in missing.data
    # Another's residency, or one not in force, is not one to move out of.
    (carol,) = users("carol")
    foreign = ask(api, alice, end_date=str(TODAY()), residency=residency_of(carol).pk)
    assert foreign.status_code == 400 and "residency" in foreign.data
    assert not MoveOutRequest.objects.exists()


@pytestmark_db
def test_a_planned_move_in_cannot_end_before_it_starts(demo):
    """The residency's own rule: a last day before the start is refused (a manager's date)."""
    from django.core.exceptions import ValidationError

    from apps.properties.services import end_date_check

    planned = ResidencyFactory(unit=Unit.objects.get(code="OAK-202"), start_date=TODAY() + 9 * DAY)
    with pytest.raises(ValidationError) as refused:
        end_date_check(planned, TODAY() + 3 * DAY)
    assert "before the residency starts" in str(refused.value.message_dict["end_date"])


@pytestmark_db
def test_wrong_steps_answer_409_naming_the_allowed_ones(demo, api):
    alice, manager = users("alice", "manager")
    first = ask(api, alice, end_date=str(TODAY() + 5 * DAY)).data
    again = ask(api, alice, end_date=str(TODAY() + 6 * DAY))
    assert again.status_code == 409 and again.data["request"] == first["id"], again.data
    assert "withdraw it" in again.data["detail"]
    stale = api_step(api, manager, first["id"], "approved", version=7)
    assert stale.status_code == 409 and stale.data["version"] == 1
    assert api_step(api, manager, first["id"], "approved").status_code == 200
    twice = api_step(api, manager, first["id"], "rejected")
    assert twice.status_code == 409, twice.data
    assert twice.data["status"] == "approved" and twice.data["allowed_transitions"] == []
    assert "none (final status)" in twice.data["detail"]
    withdraw = api_step(api, alice, first["id"], "withdrawn")
    assert withdraw.status_code == 409 and "Allowed from 'approved'" in withdraw.data["detail"]
    # Approved, the resident may ask for another day (a manager decides again).
    second = ask(api, alice, end_date=str(TODAY() + 8 * DAY))
    assert second.status_code == 201
    assert api_step(api, alice, second.data["id"], "withdrawn").status_code == 200
    assert residency_of(alice).end_date == TODAY() + 5 * DAY  # the approved day holds
    # A day that has passed by the decision is not approved.
    late = ask(api, alice, end_date=str(TODAY())).data
    MoveOutRequest.objects.filter(pk=late["id"]).update(end_date=TODAY() - DAY)
    refused = api_step(api, manager, late["id"], "approved")
    assert refused.status_code == 409 and "has passed" in refused.data["detail"], refused.data
    assert refused.data["allowed_transitions"] == ["rejected", "withdrawn"]


@pytestmark_db
def test_who_decides(demo, api):
    """Residents never approve; a manager decides only at the properties they manage;
    other staff roles never see move-outs."""
    alice, bob, manager, security = users("alice", "bob", "manager", "security")
    mine = ask(api, alice, end_date=str(TODAY() + DAY)).data
    assert api_step(api, alice, mine["id"], "approved").status_code == 403
    assert api(bob).get(f"{MO}{mine['id']}/").status_code == 404  # a neighbour's: not theirs
    assert api_step(api, bob, mine["id"], "withdrawn").status_code == 404
    assert api_step(api, manager, mine["id"], "withdrawn").status_code == 403
    assert api(security).get(MO).status_code == 403
    elm_manager = UserFactory(role=Role.MANAGER, property=demo_property("elm"))
    assert api(elm_manager).get(f"{MO}{mine['id']}/").status_code == 404
    assert api_step(api, elm_manager, mine["id"], "approved").status_code == 404
    assert MoveOutRequest.objects.get(pk=mine["id"]).status == "requested"


def demo_property(code):
    from apps.properties.models import Property

    return Property.objects.get(code=code)


@pytestmark_db
def test_the_manager_approves_in_the_admin_and_still_sets_a_date_directly(demo, api):
    (alice,) = users("alice")
    move_out = ask(api, alice, end_date=str(TODAY() + 4 * DAY)).data
    client = Client()
    assert login(client, "manager").status_code == 302
    assert "1 move-out request to decide" in client.get("/admin/").content.decode()
    change = client.get(f"/admin/properties/moveoutrequest/{move_out['id']}/change/")
    assert change.status_code == 200 and b"/step/approved/" in change.content
    approve = f"/admin/properties/moveoutrequest/{move_out['id']}/step/approved/"
    assert client.post(approve, {"workflow_apply": "1"}).status_code == 302
    residency = residency_of(alice)
    assert residency.end_date == TODAY() + 4 * DAY
    # Setting the last day directly on the residency still works.
    page = f"/admin/properties/residency/{residency.pk}/change/"
    form = client.get(page).context["adminform"].form
    data = {
        "resident": residency.resident_id,
        "unit": residency.unit_id,
        "start_date": str(residency.start_date),
        "end_date": str(TODAY() + 10 * DAY),
    }
    assert set(data) <= set(form.fields)
    saved = client.post(page, data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    assert residency_of(alice).end_date == TODAY() + 10 * DAY


@pytestmark_db
def test_events_carry_the_request_and_a_refused_step_publishes_nothing(demo, api):
    """Without workers: the payloads, each published with its step (a 409 or 403 step
    publishes nothing; a withdrawal publishes its own event, no decision)."""
    alice, manager = users("alice", "manager")
    residency = alice.residencies.get()

    def rows(event):
        return [row.payload[0]["data"] for row in OutboxMessage.objects.filter(event=event)]

    last_day = TODAY() + 2 * DAY
    move_out = ask(api, alice, end_date=str(last_day)).data
    [requested] = rows("move_out.requested")
    assert requested | {"at": None} == {
        "move_out_id": move_out["id"],
        "residency_id": residency.pk,
        "resident_id": alice.pk,
        "unit_id": residency.unit_id,
        "property_id": residency.unit.property_id,
        "end_date": str(last_day),
        "status": "requested",
        "version": 1,
        "at": None,
    }
    assert api_step(api, alice, move_out["id"], "approved").status_code == 403
    assert api_step(api, manager, move_out["id"], "approved", version=7).status_code == 409
    assert rows("move_out.decided") == []
    assert api_step(api, manager, move_out["id"], "rejected", note="No").status_code == 200
    [decided] = rows("move_out.decided")
    assert decided["status"] == "rejected" and decided["version"] == 2
    assert decided["decided_by_id"] == manager.pk and decided["end_date"] == str(last_day)
    assert rows("move_out.withdrawn") == []
    # Asked again and withdrawn: no decision published, the withdrawal instead.
    again = ask(api, alice, end_date=str(last_day)).data
    assert api_step(api, alice, again["id"], "withdrawn").status_code == 200
    assert len(rows("move_out.requested")) == 2 and len(rows("move_out.decided")) == 1
    [withdrawn] = rows("move_out.withdrawn")
    assert withdrawn | {"at": None} == requested | {
        "move_out_id": again["id"],
        "status": "withdrawn",
        "version": 2,
        "at": None,
    }
    step = MoveOutRequest.objects.get(pk=again["id"]).history.get(to_status="withdrawn")
    assert datetime.datetime.fromisoformat(withdrawn["at"]) == step.changed_at
