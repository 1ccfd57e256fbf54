"""The front desk from the user's seat (API): the desk logs parcels for a resident, the
resident sees theirs with the pickup code, the desk hands them over with that code (or to
a person the resident authorised) or returns them; a parcel is handed over once."""

import pytest

from apps.front_desk.models import Parcel
from apps.messaging.models import OutboxMessage
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/parcels/"


def log(api, site, numbers=("1Z999AA10123456784",), **extra):
    body = {"unit": site.unit.pk, "carrier": "ups", "tracking_numbers": list(numbers), **extra}
    return api(site.staff["security"]).post(URL, body, format="json")


def test_the_desk_logs_several_parcels_for_one_resident_in_one_step(world, api):
    r = log(api, world.a, ["1Z1", "1Z2", "1Z3"], size="large", storage_location="shelf B3")
    assert r.status_code == 201, r.data
    assert [p["tracking_number"] for p in r.data] == ["1Z1", "1Z2", "1Z3"]
    assert {p["resident"] for p in r.data} == {world.a.resident.pk}  # suggested from the unit
    assert {p["pickup_code"] for p in r.data} == {None}  # the desk never sees the code
    parcels = Parcel.objects.filter(pk__in=[p["id"] for p in r.data])
    assert len({p.pickup_code for p in parcels}) == 1
    assert all(p.status == "waiting" and p.logged_by == world.a.staff["security"] for p in parcels)
    told = OutboxMessage.objects.filter(event="parcel.arrived", queue="front_desk")
    assert sorted(m.payload[0]["data"]["parcel_id"] for m in told) == sorted(p.pk for p in parcels)
    assert OutboxMessage.objects.filter(event="parcel.arrived", queue="reporting").count() == 3


def test_the_resident_sees_their_parcels_waiting_with_the_code_and_their_history(world, api):
    ids = [p["id"] for p in log(api, world.a, ["A1", "A2"]).data]
    code = Parcel.objects.get(pk=ids[0]).pickup_code
    desk = api(world.a.staff["security"])
    desk.post(f"{URL}{ids[0]}/pick-up/", {"code": code}, format="json")
    resident = api(world.a.resident)
    waiting = resident.get(URL, {"status": "waiting"}).json()["results"]
    assert [(p["id"], p["pickup_code"]) for p in waiting] == [(ids[1], code)]
    history = resident.get(URL).json()["results"]
    assert {p["id"]: p["status"] for p in history} == {ids[0]: "picked_up", ids[1]: "waiting"}
    detail = resident.get(f"{URL}{ids[0]}/").json()
    assert [h["to_status"] for h in detail["history"]] == ["waiting", "picked_up"]
    # A neighbour in the same property sees none of them.
    assert api(world.neighbour).get(URL).json()["results"] == []


def test_pickup_with_the_code_then_again_is_409_naming_the_state(world, api):
    parcel = Parcel.objects.get(pk=log(api, world.a).data[0]["id"])
    desk = api(world.a.staff["security"])
    wrong = "000000" if parcel.pickup_code != "000000" else "111111"
    r = desk.post(f"{URL}{parcel.pk}/pick-up/", {"code": wrong}, format="json")
    assert r.status_code == 400 and "code" in r.data, r.data
    r = desk.post(f"{URL}{parcel.pk}/pick-up/", {"code": parcel.pickup_code}, format="json")
    assert r.status_code == 200, r.data
    assert r.data["status"] == "picked_up" and r.data["picked_up_at"]
    assert r.data["collected_by"] == str(world.a.resident)
    again = desk.post(f"{URL}{parcel.pk}/pick-up/", {"code": parcel.pickup_code}, format="json")
    assert again.status_code == 409
    assert again.data["status"] == "picked_up"
    assert "picked_up" in again.data["detail"]
    assert again.data["allowed_transitions"] == []
    changed = OutboxMessage.objects.filter(event="parcel.status_changed")
    assert [m.payload[0]["data"]["status"] for m in changed] == ["picked_up"]  # once
    assert parcel.history.count() == 2


def test_an_authorised_person_collects_with_a_note(world, api):
    parcel_id = log(api, world.a).data[0]["id"]
    desk = api(world.a.staff["security"])
    r = desk.post(f"{URL}{parcel_id}/pick-up/", {"collected_by": "Sam Neighbour"}, format="json")
    assert r.status_code == 400 and "note" in r.data
    r = desk.post(
        f"{URL}{parcel_id}/pick-up/",
        {"collected_by": "Sam Neighbour", "note": "Resident phoned the desk"},
        format="json",
    )
    assert r.status_code == 200, r.data
    assert r.data["collected_by"] == "Sam Neighbour"
    assert "Resident phoned the desk" in r.data["history"][-1]["note"]


def test_returning_is_a_workflow_step(world, api):
    parcel_id = log(api, world.a).data[0]["id"]
    desk = api(world.a.staff["manager"])
    r = desk.post(f"{URL}{parcel_id}/return/", {"note": "Refused"}, format="json")
    assert r.status_code == 200 and r.data["status"] == "returned" and r.data["returned_at"]
    again = desk.post(f"{URL}{parcel_id}/pick-up/", {"code": "123456"}, format="json")
    assert again.status_code == 409 and again.data["status"] == "returned"


def test_a_chosen_resident_must_live_in_the_unit(world, api):
    r = log(api, world.a, resident=world.neighbour.pk)
    assert r.status_code == 400 and "resident" in r.data
    flatmate = UserFactory(unit=world.a.unit)
    r = log(api, world.a, resident=flatmate.pk)
    assert r.status_code == 201 and r.data[0]["resident"] == flatmate.pk


def test_a_number_already_waiting_is_refused(world, api):
    assert log(api, world.a, ["SAME-1"]).status_code == 201
    r = log(api, world.a, ["OTHER", "SAME-1"])
    assert r.status_code == 400 and "SAME-1" in r.data["tracking_numbers"][0]
    assert Parcel.objects.count() == 1


def test_an_empty_unit_is_refused(world, api):
    empty = UnitFactory(property=world.a.property)
    r = api(world.a.staff["security"]).post(
        URL, {"unit": empty.pk, "carrier": "dhl", "tracking_numbers": ["X1"]}, format="json"
    )
    assert r.status_code == 400 and "unit" in r.data


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tracking_numbers": []}, "tracking_numbers"),
        ({"tracking_numbers": ["has space"]}, "tracking_numbers"),
        ({"tracking_numbers": ["\x00"]}, "tracking_numbers"),
        ({"tracking_numbers": ["X" * 65]}, "tracking_numbers"),
        ({"tracking_numbers": [f"N{i}" for i in range(51)]}, "tracking_numbers"),
        ({"tracking_numbers": "1Z1"}, "tracking_numbers"),
        ({"tracking_numbers": [{"a": 1}]}, "tracking_numbers"),
        ({"carrier": "pigeon"}, "carrier"),
        ({"size": "huge"}, "size"),
        ({"unit": "x"}, "unit"),
        ({"unit": 10**12}, "unit"),
        ({"resident": -1}, "resident"),
        ({"note": "n" * 2001}, "note"),
        ({"storage_location": "s" * 101}, "storage_location"),
    ],
)
def test_hostile_input_is_400_on_its_field(world, api, body, field):
    base = {"unit": world.a.unit.pk, "carrier": "ups", "tracking_numbers": ["1Z1"]}
    r = api(world.a.staff["security"]).post(URL, {**base, **body}, format="json")
    assert r.status_code == 400, r.content
    assert field in r.data
    assert not Parcel.objects.exists()


@pytest.mark.parametrize(
    "body", [{"code": "1" * 7}, {"code": ["1"]}, {"collected_by": "x" * 201, "note": "n"}, {}]
)
def test_hostile_pickup_is_400(world, api, body):
    parcel_id = log(api, world.a).data[0]["id"]
    r = api(world.a.staff["security"]).post(f"{URL}{parcel_id}/pick-up/", body, format="json")
    assert r.status_code == 400, r.content
    assert Parcel.objects.get(pk=parcel_id).status == "waiting"


def test_a_former_resident_loses_their_parcels_at_once(world, api):
    log(api, world.a)
    residency = world.a.resident.residencies.get()
    residency.end_date = residency.start_date
    residency.save()
    assert api(world.a.resident).get(URL).json()["results"] == []
