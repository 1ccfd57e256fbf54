"""A residency's days are its property's (#25, move-in and move-out): the rights a residency
gives, the move job, a move-out's last day and a planned move-in follow the building's
calendar in its time zone, not the server's (UTC). Oak Court is set to a zone that is on
another date than UTC for part of each day; with both zones, whatever the hour, the
server's day would be caught."""

import datetime
import zoneinfo

import pytest

from apps.accounts.models import User
from apps.properties.models import Property, Residency, Unit
from apps.properties.services import residency_moves_process
from tests.admin.test_admin_roles import OTHER_DAY_ZONES
from tests.factories import ResidencyFactory
from tests.fixtures.demo import day_end

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture(params=OTHER_DAY_ZONES)
def oak_today(request, demo):
    """Oak Court's manager sets its time zone; its date there now."""
    Property.objects.filter(code="oak").update(time_zone=request.param)
    return (day_end(zoneinfo.ZoneInfo(request.param)) - DAY).date()


def rights(api, user):
    client = api(user)
    return {
        "units": client.get("/api/v1/units/").json()["count"],
        "repair": client.post(
            "/api/v1/repairs/", {"category": "pest", "description": "Ants"}, format="json"
        ).status_code,
    }


def test_rights_and_moves_begin_and_end_on_the_propertys_day(api, oak_today):
    nina = ResidencyFactory(unit=Unit.objects.get(code="OAK-201"), start_date=oak_today)
    otto = ResidencyFactory(
        unit=Unit.objects.get(code="OAK-202"),
        start_date=oak_today - 30 * DAY,
        end_date=oak_today - DAY,  # yesterday at the property was his last day
    )
    assert rights(api, nina.resident) == {"units": 1, "repair": 201}
    assert rights(api, otto.resident)["units"] == 0
    assert rights(api, otto.resident)["repair"] in (400, 403)

    residency_moves_process()
    nina, otto = (Residency.objects.get(pk=r.pk) for r in (nina, otto))
    assert nina.started_at is not None and otto.ended_at is not None


def test_a_move_out_and_a_planned_move_in_are_dated_by_the_propertys_day(api, oak_today):
    alice, manager = User.objects.get(username="alice"), User.objects.get(username="manager")
    move_outs = "/api/v1/move-outs/"
    past = api(alice).post(move_outs, {"end_date": str(oak_today - DAY)}, format="json")
    assert past.status_code == 400 and "in the past" in str(past.data["end_date"]), past.data
    today = api(alice).post(move_outs, {"end_date": str(oak_today)}, format="json")
    assert today.status_code == 201, today.data

    invitations, unit = "/api/v1/invitations/", Unit.objects.get(code="OAK-202").pk
    for start_date, email, status in [
        (oak_today - DAY, "late@example.com", 400),
        (oak_today, "now@example.com", 201),
    ]:
        answer = api(manager).post(
            invitations,
            {"unit": unit, "email": email, "start_date": str(start_date)},
            format="json",
        )
        assert answer.status_code == status, (start_date, answer.data)
