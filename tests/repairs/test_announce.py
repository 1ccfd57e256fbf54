"""Who is told about a repair, and that a late status event never announces a past status."""

import pytest

from apps.notifications.models import Notification
from apps.repairs.models import RepairRequest
from apps.repairs.services import (
    repair_request_announce,
    repair_request_submit,
    repair_status_announce,
)

pytestmark = pytest.mark.django_db


def test_urgent_repair_tells_maintenance_and_managers_with_a_phone(world):
    manager = world.user("manager")
    manager.phone = "+15550100"
    manager.save()
    repair = repair_request_submit(
        resident=world.a.resident, category="plumbing", description="Burst", urgency="urgent"
    )
    sent = repair_request_announce(repair.id)
    recipients = {(n.user, n.channel) for n in sent}
    maintenance = world.user("maintenance")
    assert recipients == {(maintenance, "in_app"), (maintenance, "email"), (manager, "sms")}
    assert not Notification.objects.filter(user=world.user("maintenance", "b")).exists()


def test_normal_repair_sends_no_sms(world):
    repair = repair_request_submit(
        resident=world.a.resident, category="plumbing", description="Drip", urgency="normal"
    )
    assert {n.channel for n in repair_request_announce(repair.id)} == {"in_app", "email"}


def test_late_status_event_is_not_announced(world):
    repair = repair_request_submit(
        resident=world.a.resident, category="plumbing", description="Drip"
    )
    RepairRequest.objects.filter(id=repair.id).update(status="scheduled", version=3)
    assert repair_status_announce(repair.id, 2) is None  # acknowledged (v2) arrives after v3
    [told] = repair_status_announce(repair.id, 3)
    assert told.user == world.a.resident and "Scheduled" in told.subject
