"""The security demo user works the desk in the admin: logs a scanner's tracking numbers
for a resident of Oak Court in one step, hands a parcel over with the pickup code, and is
refused a wrong code or a second handover with the reason shown."""

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.front_desk.models import Parcel
from apps.messaging.models import OutboxMessage
from apps.properties.models import Unit
from tests.fixtures.demo import login

pytestmark = pytest.mark.django_db

ADD = "/admin/front_desk/parcel/add/"


@pytest.fixture
def desk(demo):
    client = Client()
    assert login(client, "security").status_code == 302
    return client


def log_form(**changes):
    return {
        "tracking_numbers": "1ZSCAN0001\r\n1ZSCAN0002\r\n\r\n1ZSCAN0001\r\n",  # scanned twice
        "unit": Unit.objects.get(code="OAK-102").pk,
        "resident": "",
        "carrier": "ups",
        "size": "medium",
        "storage_location": "shelf C2",
        "note": "",
        **changes,
    }


def test_the_desk_logs_scanned_parcels_for_the_units_resident(desk):
    page = desk.get(ADD)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<textarea name="tracking_numbers"' in html and "front_desk/scanner.js" in html
    # Only the desk's own property's units and residents are offered.
    assert "OAK-102" in html and "ELM-1" not in html
    arrived = OutboxMessage.objects.filter(event="parcel.arrived", queue="front_desk")
    before = arrived.count()
    r = desk.post(ADD, log_form())
    assert r.status_code == 302, r.content.decode()[:3000]
    parcels = Parcel.objects.filter(tracking_number__startswith="1ZSCAN").order_by("pk")
    assert [p.tracking_number for p in parcels] == ["1ZSCAN0001", "1ZSCAN0002"]
    bob = User.objects.get(username="bob")
    assert {(p.resident, p.storage_location, p.size) for p in parcels} == {
        (bob, "shelf C2", "medium")
    }
    assert arrived.count() == before + 2
    # The same number again while it waits: the form says so and logs nothing.
    again = desk.post(ADD, log_form(tracking_numbers="1ZSCAN0002"))
    assert again.status_code == 200 and "Already waiting at the desk: 1ZSCAN0002" in (
        again.content.decode()
    )
    assert Parcel.objects.filter(tracking_number__startswith="1ZSCAN").count() == 2


def test_a_resident_of_another_unit_or_property_is_refused(desk):
    alice = User.objects.get(username="alice")  # OAK-101, not OAK-102
    r = desk.post(ADD, log_form(resident=alice.pk))
    assert r.status_code == 200 and "does not live in OAK-102" in r.content.decode()
    elm = Unit.objects.get(code="ELM-1")
    r = desk.post(ADD, log_form(unit=elm.pk))
    assert r.status_code == 200 and "Select a valid choice" in r.content.decode()
    assert not Parcel.objects.filter(tracking_number__startswith="1ZSCAN").exists()


def test_hand_over_with_the_code_once(desk):
    parcel = Parcel.objects.filter(unit__code="OAK-101", status="waiting").first()
    step = f"/admin/front_desk/parcel/{parcel.pk}/step/picked_up/"
    page = desk.get(step)
    assert page.status_code == 200 and 'name="code"' in page.content.decode()
    wrong = "000000" if parcel.pickup_code != "000000" else "111111"
    r = desk.post(step, {"workflow_apply": "1", "code": wrong}, follow=True)
    assert "not this parcel&#x27;s pickup code" in r.content.decode()
    parcel.refresh_from_db()
    assert parcel.status == "waiting"
    r = desk.post(step, {"workflow_apply": "1", "code": parcel.pickup_code})
    assert r.status_code == 302
    parcel.refresh_from_db()
    assert parcel.status == "picked_up" and parcel.collected_by == "Alice"
    # A second handover (say a stale page) is refused, naming the state.
    r = desk.post(step, {"workflow_apply": "1", "code": parcel.pickup_code}, follow=True)
    assert "from &#x27;picked_up&#x27;" in r.content.decode()


def test_the_index_counts_parcels_waiting(desk):
    waiting = Parcel.objects.filter(property__code="oak", status="waiting").count()
    assert f"{waiting} parcels waiting at the desk" in desk.get("/admin/").content.decode()
