import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.complaints import services as complaint_services
from apps.complaints.models import Complaint
from apps.messaging.models import OutboxMessage
from apps.repairs.models import RepairRequest
from tests.factories import RepairRequestFactory

pytestmark = pytest.mark.django_db


def staff_client(user, *codenames):
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def test_admin_sees_only_own_properties(world):
    own, other = (
        RepairRequestFactory(site=world.a, urgency="urgent"),
        RepairRequestFactory(site=world.b, urgency="urgent"),
    )
    client = staff_client(
        world.a.staff["maintenance"], "view_repairrequest", "change_repairrequest"
    )
    page = client.get("/admin/repairs/repairrequest/")
    assert page.status_code == 200
    ids = {r.pk for r in page.context["cl"].queryset}
    assert ids == {own.pk}
    assert client.get(f"/admin/repairs/repairrequest/{other.pk}/change/").status_code == 302
    assert client.get(f"/admin/repairs/repairrequest/{own.pk}/change/").status_code == 200


def test_admin_action_goes_through_the_service(world):
    repair = RepairRequestFactory(site=world.a, urgency="urgent")
    OutboxMessage.objects.all().delete()
    client = staff_client(
        world.a.staff["maintenance"], "view_repairrequest", "change_repairrequest"
    )
    r = client.post(
        "/admin/repairs/repairrequest/",
        {"action": "repair_acknowledged", "_selected_action": [repair.pk]},
    )
    assert r.status_code == 302
    repair.refresh_from_db()
    assert (repair.status, repair.version) == ("acknowledged", 2)
    row = OutboxMessage.objects.get(event="repair.status_changed", queue="repair_requests")
    assert row.priority == 9
    assert row.payload[0]["data"]["changed_by_id"] == world.a.staff["maintenance"].pk
    # An illegal step is reported, not applied.
    r = client.post(
        "/admin/repairs/repairrequest/",
        {"action": "repair_resolved", "_selected_action": [repair.pk]},
        follow=True,
    )
    assert "Allowed from" in r.content.decode()
    assert RepairRequest.objects.get(pk=repair.pk).status == "acknowledged"


def test_complaint_admin_resolve_action(world):
    complaint = complaint_services.complaint_file(
        resident=world.a.resident, category="noise", subject="s", description="d"
    )
    client = staff_client(world.a.staff["customer_service"], "view_complaint", "change_complaint")
    for action in ("complaint_in_review", "complaint_resolved"):
        client.post(
            "/admin/complaints/complaint/",
            {"action": action, "_selected_action": [complaint.pk]},
        )
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    assert OutboxMessage.objects.filter(event="complaint.updated").count() == 4
    assert client.get(f"/admin/complaints/complaint/{complaint.pk}/change/").status_code == 200


def test_complaint_admin_scoped(world):
    complaint_services.complaint_file(
        resident=world.b.resident, category="noise", subject="s", description="d"
    )
    client = staff_client(world.a.staff["customer_service"], "view_complaint")
    page = client.get("/admin/complaints/complaint/")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 0
    assert Complaint.objects.count() == 1
