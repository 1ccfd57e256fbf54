"""Move-ins and move-outs per period (#25): the report the dashboard's moves chart reads,
kept from the move job's stamps (residency.started / residency.ended), and the chart on
the dashboard page."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.properties.services import residency_moves_process
from apps.reporting.services import report_period_reconcile
from tests.fixtures.demo import demo_install, login

pytestmark = pytest.mark.django_db

MOVES = "/api/v1/reports/moves/"


def test_the_moves_report_counts_move_ins_and_outs_per_period(api, world):
    today = timezone.localdate()
    residency_moves_process()  # the world's residents moved in (stamped today)
    residency = world.a.resident.residencies.get()
    residency.end_date = today - datetime.timedelta(days=1)
    residency.save()
    assert residency_moves_process() == (0, 1)
    report_period_reconcile(today, today)
    manager = api(world.user("manager"))
    [row] = manager.get(MOVES, {"property": world.a.property.pk, "group_by": "week"}).json()
    monday = today - datetime.timedelta(days=today.weekday())
    # Property A: its resident and the neighbour moved in; the resident moved out.
    assert row == {
        "period": str(monday),
        "property_id": world.a.property.pk,
        "moved_in": 2,
        "moved_out": 1,
    }
    # A manager sees only their properties; an admin every one.
    assert [r["property_id"] for r in manager.get(MOVES).json()] == [world.a.property.pk]
    everyone = api(world.admin).get(MOVES, {"group_by": "month"}).json()
    assert {r["property_id"]: r["moved_in"] for r in everyone} == {
        world.a.property.pk: 2,
        world.b.property.pk: 1,
    }
    csv = manager.get(MOVES, {"format": "csv"})
    assert csv.content.decode().splitlines()[0] == "period,property_id,moved_in,moved_out"


def test_the_dashboard_has_a_moves_chart_per_period():
    demo_install()
    client = Client()
    assert login(client, "manager").status_code == 302
    page = client.get("/admin/reports/dashboard/").content.decode()
    assert 'data-chart="moves"' in page and "Residents moved in and moved out" in page
    assert User.objects.filter(username="manager").exists()
