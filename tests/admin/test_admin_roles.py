"""Every demo user logs into the admin after `seed_demo`, with no permission set up by the
test: each role opens what it works with and nothing else, and only at its own property
(oak); a role change made in the admin applies from the next request. Workflow steps
taken in the admin go through the services (same events as the API)."""

import datetime
import zoneinfo

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from apps.accounts.backends import role_permissions
from apps.accounts.models import Role, User
from apps.complaints.models import Complaint
from apps.messaging.models import OutboxMessage
from apps.properties.models import Property, Residency, Unit
from apps.registration.models import Invitation
from apps.repairs.models import RepairRequest
from apps.visitors.models import Visitor
from apps.visitors.services import visitor_expect
from tests.factories import ResidencyFactory, UserFactory
from tests.fixtures.demo import day_end, login

pytestmark = pytest.mark.django_db

PAGES = {
    "repairs": "/admin/repairs/repairrequest/",
    "assets": "/admin/assets/asset/",
    "visitors": "/admin/visitors/visitor/",
    "walk_in": "/admin/visitors/visitor/add/",
    "complaints": "/admin/complaints/complaint/",
    "properties": "/admin/properties/property/",
    "units": "/admin/properties/unit/",
    "residencies": "/admin/properties/residency/",
    "move_outs": "/admin/properties/moveoutrequest/",
    "invitations": "/admin/registration/invitation/",
    "invite": "/admin/registration/invitation/add/",
    "staff_assignments": "/admin/properties/staffassignment/",
    "users": "/admin/accounts/user/",
    "notifications": "/admin/notifications/notification/",
    "outbox": "/admin/messaging/outboxmessage/",
    "dead_letter_audit": "/admin/messaging/deadletterreplay/",
    "periodic_tasks": "/admin/django_celery_beat/periodictask/",
    "reports": "/admin/reporting/dailypropertystat/",
    "announcements": "/admin/announcements/announcement/",
    "announce": "/admin/announcements/announcement/add/",
    "amenities": "/admin/amenities/amenity/",
    "closures": "/admin/amenities/amenityclosure/",
    "reservations": "/admin/amenities/reservation/",
    "parcels": "/admin/front_desk/parcel/",
    "log_parcels": "/admin/front_desk/parcel/add/",
}
MANAGER_PAGES = {
    "repairs",
    "assets",
    "visitors",
    "walk_in",
    "complaints",
    "properties",
    "units",
    "residencies",
    "move_outs",
    "invitations",
    "invite",
    "staff_assignments",
    "users",
    "announcements",
    "announce",
    "amenities",
    "closures",
    "reservations",
    "parcels",
    "log_parcels",
}
OPENS = {
    "maintenance": {"repairs", "assets"},
    "security": {"visitors", "walk_in", "parcels", "log_parcels"},
    "customer_service": {"complaints"},
    "manager": MANAGER_PAGES,
    "admin": set(PAGES),
}
# What each role's admin index lists (app_label.model), and nothing more.
INDEX = {
    "maintenance": {"repairs.repairrequest", "assets.asset"},
    "security": {"visitors.visitor", "front_desk.parcel"},
    "customer_service": {"complaints.complaint"},
    "manager": {
        "repairs.repairrequest",
        "assets.asset",
        "visitors.visitor",
        "complaints.complaint",
        "properties.property",
        "properties.unit",
        "properties.residency",
        "properties.moveoutrequest",
        "properties.staffassignment",
        "accounts.user",
        "registration.invitation",
        "announcements.announcement",
        "amenities.amenity",
        "amenities.amenityclosure",
        "amenities.reservation",
        "front_desk.parcel",
    },
}


def logged_in(username):
    client = Client()
    response = login(client, username)
    assert response.status_code == 302 and response.url == "/admin/", response.content[:500]
    return client


def index_models(client):
    response = client.get("/admin/")
    assert response.status_code == 200
    return {
        f"{app['app_label']}.{model['object_name'].lower()}"
        for app in response.context["app_list"]
        for model in app["models"]
    }


def test_no_user_holds_a_hand_assigned_permission(demo):
    """The demo installation grants nothing by hand: access below comes from roles alone."""
    assert not User.objects.filter(user_permissions__isnull=False).exists()
    assert not User.objects.filter(groups__isnull=False).exists()


@pytest.mark.parametrize("role", sorted(OPENS))
def test_each_demo_user_opens_what_their_role_works_with_and_nothing_else(demo, role):
    client = logged_in(role)
    for page, url in PAGES.items():
        status = client.get(url).status_code
        if page in OPENS[role]:
            assert status == 200, f"{role} should open {page}"
        else:
            assert status == 403, f"{role} should not open {page} (got {status})"
    if role in INDEX:
        assert index_models(client) == INDEX[role]


@pytest.mark.parametrize(
    "role, kind",
    [
        ("maintenance", "repair"),
        ("security", "visitor"),
        ("customer_service", "complaint"),
        ("manager", "repair"),
        ("manager", "visitor"),
        ("manager", "complaint"),
    ],
)
def test_staff_open_their_property_objects_only(demo, role, kind):
    client = logged_in(role)
    model = {"repair": RepairRequest, "visitor": Visitor, "complaint": Complaint}[kind]
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    own, other = getattr(demo.oak, kind), getattr(demo.elm, kind)
    assert client.get(f"{base}{own.pk}/change/").status_code == 200
    # Another property's object does not exist for them: back to the index.
    response = client.get(f"{base}{other.pk}/change/")
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get(f"{base}{other.pk}/step/check_in/").status_code == 404
    listed = {obj.pk for obj in client.get(base).context["cl"].queryset}
    assert listed == {own.pk}


def test_manager_sees_their_property_units_residents_and_staff_only(demo):
    client = logged_in("manager")
    units = {u.code for u in client.get(PAGES["units"]).context["cl"].queryset}
    assert units == {"OAK-101", "OAK-102", "OAK-201", "OAK-202"}
    residents = {
        r.resident.username for r in client.get(PAGES["residencies"]).context["cl"].queryset
    }
    assert residents == {"alice", "bob"}
    users = {u.username for u in client.get(PAGES["users"]).context["cl"].queryset}
    assert "carol" not in users and {"alice", "bob", "maintenance"} <= users


def test_admin_opens_every_property(demo):
    client = logged_in("admin")
    for work in (demo.oak, demo.elm):
        assert (
            client.get(f"/admin/repairs/repairrequest/{work.repair.pk}/change/").status_code == 200
        )


@pytest.mark.parametrize("username", ["alice", "bob", "carol"])
def test_residents_cannot_log_into_the_admin(demo, username):
    client = Client()
    response = login(client, username)
    assert response.status_code == 200
    assert "correct username and password for a staff account" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_index_summarises_the_waiting_work(demo):
    texts = {
        role: [text for text, _ in logged_in(role).get("/admin/").context["summary"]]
        for role in ("maintenance", "security", "customer_service", "manager")
    }
    assert texts["maintenance"] == ["1 urgent repair open (1 open in all)"]
    # The demo's parcels: two for alice and one for bob wait at Oak Court's desk.
    assert texts["security"] == [
        "0 visitors on site, 1 more expected today",
        "3 parcels waiting at the desk",
    ]
    assert texts["customer_service"] == ["1 new complaint open, 0 in review"]
    # The manager's is all three (in the order the apps are installed).
    assert texts["manager"] == [
        texts["security"][0],
        *texts["maintenance"],
        *texts["customer_service"],
        "0 announcements sending, 0 scheduled",
        texts["security"][1],
    ]
    assert "Waiting for you" in logged_in("maintenance").get("/admin/").content.decode()


def user_url(user):
    return f"/admin/accounts/user/{user.pk}/change/"


def user_form(user, role):
    """The user's change form in the admin as shown, with another role picked."""
    return {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "role": role,
        "is_active": "on",
    }


def test_a_role_change_in_the_admin_applies_from_the_next_request(demo):
    admin = logged_in("admin")
    maintenance = logged_in("maintenance")
    user = User.objects.get(username="maintenance")
    response = admin.post(user_url(user), user_form(user, Role.CUSTOMER_SERVICE))
    assert response.status_code == 302, response.context["adminform"].form.errors
    # The same session, no new login: repairs are gone, complaints are there.
    assert maintenance.get(PAGES["repairs"]).status_code == 403
    assert maintenance.get(PAGES["complaints"]).status_code == 200
    assert admin.post(user_url(user), user_form(user, Role.RESIDENT)).status_code == 302
    assert maintenance.get("/admin/").status_code == 302  # out of the admin altogether


def test_every_declared_role_permission_exists():
    declared = set().union(*(role_permissions(role) for role in Role))
    existing = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    }
    assert declared and declared <= existing, declared - existing


# Workflow steps in the admin are the services' steps (moved from tests/repairs/test_admin.py
# and tests/visitors/test_admin.py, now without hand-granted permissions).


def test_repair_bulk_step_goes_through_the_service(demo):
    client = logged_in("maintenance")
    repair = demo.oak.repair
    OutboxMessage.objects.all().delete()
    response = client.post(
        PAGES["repairs"], {"action": "step_acknowledged", "_selected_action": [repair.pk]}
    )
    assert response.status_code == 302
    repair.refresh_from_db()
    assert (repair.status, repair.version) == ("acknowledged", 2)
    row = OutboxMessage.objects.get(event="repair.status_changed", queue="repair_requests")
    assert row.priority == 9  # urgent, as through the API
    assert row.payload[0]["data"]["changed_by_id"] == User.objects.get(username="maintenance").pk
    # An illegal step is reported, not applied.
    response = client.post(
        PAGES["repairs"],
        {"action": "step_in_progress", "_selected_action": [repair.pk]},
        follow=True,
    )
    assert "Allowed from" in response.content.decode()
    assert RepairRequest.objects.get(pk=repair.pk).status == "acknowledged"


def test_repair_steps_with_a_form_ask_first_and_record_the_note(demo):
    client = logged_in("maintenance")
    repair = demo.oak.repair
    base = f"{PAGES['repairs']}{repair.pk}/"
    assert client.post(f"{base}step/acknowledged/", {"workflow_apply": "1"}).status_code == 302
    page = client.get(f"{base}step/scheduled/")
    assert page.status_code == 200 and "Scheduled for" in page.content.decode()
    # No time, no step.
    assert client.post(f"{base}step/scheduled/", {"workflow_apply": "1"}).status_code == 200
    assert RepairRequest.objects.get(pk=repair.pk).status == "acknowledged"
    response = client.post(
        f"{base}step/scheduled/",
        {"workflow_apply": "1", "when": "2099-01-02 09:30", "note": "Bring a ladder"},
    )
    assert response.status_code == 302
    assert repair.history.last().note == "Scheduled for 2099-01-02 09:30. Bring a ladder"
    change_page = client.get(f"{base}change/").content.decode()
    assert "Start work" in change_page and ">Acknowledge<" not in change_page


def test_complaint_bulk_steps_go_through_the_service(demo):
    client = logged_in("customer_service")
    complaint = demo.oak.complaint
    client.post(
        PAGES["complaints"], {"action": "step_in_review", "_selected_action": [complaint.pk]}
    )
    # Resolving asks for a note first, then applies to the selection.
    page = client.post(
        PAGES["complaints"], {"action": "step_resolved", "_selected_action": [complaint.pk]}
    )
    assert page.status_code == 200 and 'name="note"' in page.content.decode()
    client.post(
        PAGES["complaints"],
        {
            "action": "step_resolved",
            "_selected_action": [complaint.pk],
            "workflow_apply": "1",
            "note": "Talked to the neighbour",
        },
    )
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    assert complaint.history.last().note == "Talked to the neighbour"
    assert OutboxMessage.objects.filter(event="complaint.updated").count() == 4


def test_security_checks_in_through_the_service_and_registers_a_walk_in(demo):
    client = logged_in("security")
    visitor = demo.oak.visitor
    response = client.post(
        PAGES["visitors"], {"action": "step_check_in", "_selected_action": [visitor.pk]}
    )
    assert response.status_code == 302
    assert Visitor.objects.get(pk=visitor.pk).status == "arrived"
    assert (
        OutboxMessage.objects.filter(event="visitor.arrived", queue="visitor_management").count()
        == 1
    )
    # A walk-in may only be registered for a unit of security's own property.
    elm_unit = Unit.objects.get(code="ELM-1")
    response = client.post(PAGES["walk_in"], {"unit": elm_unit.pk, "name": "Mallory"})
    assert response.status_code == 200 and not Visitor.objects.filter(name="Mallory").exists()
    oak_unit = Unit.objects.get(code="OAK-102")
    response = client.post(PAGES["walk_in"], {"unit": oak_unit.pk, "name": "Walter Walkin"})
    assert response.status_code == 302
    walk_in = Visitor.objects.get(name="Walter Walkin")
    assert (walk_in.status, walk_in.walk_in, walk_in.host.username) == ("arrived", True, "bob")
    assert (
        OutboxMessage.objects.filter(event="visitor.arrived", queue="visitor_management").count()
        == 2
    )


def test_the_admin_role_opens_everything_without_being_superuser(demo):
    admin = logged_in("admin")
    user = User.objects.get(username="manager")
    assert admin.post(user_url(user), user_form(user, Role.ADMIN)).status_code == 302
    user.refresh_from_db()
    assert not user.is_superuser
    client = logged_in("manager")
    for url in PAGES.values():
        assert client.get(url).status_code == 200, url
    assert client.get(f"{PAGES['repairs']}{demo.elm.repair.pk}/change/").status_code == 200


def test_repairs_list_open_ones_urgent_first_then_oldest(demo):
    from apps.repairs.services import repair_request_submit, repair_transition

    alice = User.objects.get(username="alice")
    normal = repair_request_submit(resident=alice, category="heating", description="Cold")
    later_urgent = repair_request_submit(
        resident=alice, category="electrical", description="Sparks", urgency="urgent"
    )
    low = repair_request_submit(
        resident=alice, category="other", description="Paint", urgency="low"
    )
    done = repair_request_submit(resident=alice, category="pest", description="Mice")
    repair_transition(repair=done, to_status="cancelled", user=alice)
    client = logged_in("maintenance")
    listed = [r.pk for r in client.get(PAGES["repairs"]).context["cl"].result_list]
    assert listed == [demo.oak.repair.pk, later_urgent.pk, normal.pk, low.pk]
    everything = client.get(PAGES["repairs"], {"state": "all"}).context["cl"].queryset
    assert done in everything
    filtered = client.get(PAGES["repairs"], {"urgency__exact": "low"}).context["cl"].result_list
    assert list(filtered) == [low]


def test_overstaying_visitors_stand_out(demo):
    from apps.visitors.services import visitor_check_in

    visitor_check_in(demo.oak.visitor, by=User.objects.get(username="security"))
    client = logged_in("security")
    assert 'class="overstay"' not in client.get(PAGES["visitors"]).content.decode()
    # Nine hours later (the visitor arrived that long ago) they stand out.
    Visitor.objects.filter(pk=demo.oak.visitor.pk).update(
        arrived_at=timezone.now() - datetime.timedelta(hours=9)
    )
    page = client.get(PAGES["visitors"]).content.decode()
    assert 'class="overstay"' in page and "Olga Oakvisitor" in page
    summary = client.get("/admin/").context["summary"]
    assert summary[0][0] == "1 visitor on site (1 overstaying), 0 more expected today"
    overstaying = client.get(PAGES["visitors"], {"when": "overstaying"}).context["cl"]
    assert [v.pk for v in overstaying.result_list] == [demo.oak.visitor.pk]


# Whatever the hour in UTC, each of these is on another date for part of the day (UTC+14
# and UTC-11), so a desk that took the server's day for the building's would be caught.
OTHER_DAY_ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago"]


@pytest.mark.parametrize("zone", OTHER_DAY_ZONES)
def test_expected_today_is_the_propertys_own_day(demo, zone):
    """The desk's "today" is the building's, in its time zone, not the server's (UTC)."""
    Property.objects.filter(code="oak").update(time_zone=zone)
    zone = zoneinfo.ZoneInfo(zone)
    end = day_end(zone)
    alice = User.objects.get(username="alice")
    tonight, tomorrow = (
        visitor_expect(host=alice, name=name, expected_arrival=when)
        for name, when in [
            ("Tess Tonight", end - datetime.timedelta(seconds=1)),
            ("Tom Tomorrow", end + datetime.timedelta(minutes=1)),
        ]
    )
    local_today = timezone.localtime(timezone=zone).date()
    demo_visitor_today = demo.oak.visitor.expected_arrival.astimezone(zone).date() == local_today
    client = logged_in("security")
    summary = client.get("/admin/").context["summary"]
    assert summary[0][0] == f"0 visitors on site, {1 + demo_visitor_today} more expected today"
    listed = {v.pk for v in client.get(PAGES["visitors"]).context["cl"].result_list}
    assert tonight.pk in listed and tomorrow.pk not in listed


def pending_claim(username, unit_code):
    """Someone registered (and confirmed) with a unit code: a pending residency."""
    return ResidencyFactory(
        resident=UserFactory(username=username),
        unit=Unit.objects.get(code=unit_code),
        start_date=timezone.localdate(),
        status=Residency.Status.PENDING,
    )


def test_a_manager_approves_and_rejects_claims_of_their_property_only(demo):
    mine, other = pending_claim("claimant", "OAK-102"), pending_claim("elmer", "ELM-1")
    rejected = pending_claim("stranger", "OAK-101")
    client = logged_in("manager")
    summary = [text for text, _ in client.get("/admin/").context["summary"]]
    assert "2 residency claims to approve" in summary
    listed = client.get(PAGES["residencies"], {"status__exact": "pending"}).context["cl"].queryset
    assert set(listed) == {mine, rejected}
    # Selecting another property's claim does nothing: it is not in the manager's list.
    client.post(
        PAGES["residencies"], {"action": "approve", "_selected_action": [mine.pk, other.pk]}
    )
    client.post(PAGES["residencies"], {"action": "reject", "_selected_action": [rejected.pk]})
    statuses = {
        r.pk: r.status for r in Residency.objects.filter(pk__in=[mine.pk, other.pk, rejected.pk])
    }
    assert statuses == {mine.pk: "approved", other.pk: "pending", rejected.pk: "rejected"}
    assert OutboxMessage.objects.filter(event="residency.decided").count() == 2
    # A decided claim stays decided: the refusal is shown, not a 500.
    again = client.post(
        PAGES["residencies"], {"action": "reject", "_selected_action": [mine.pk]}, follow=True
    )
    assert "not pending" in again.content.decode()
    for role in ("maintenance", "security", "customer_service"):
        assert logged_in(role).get(PAGES["residencies"]).status_code == 403


def test_a_manager_invites_to_their_own_units_through_the_service(demo):
    client = logged_in("manager")
    oak, elm = Unit.objects.get(code="OAK-202"), Unit.objects.get(code="ELM-1")
    refused = client.post(PAGES["invite"], {"unit": elm.pk, "email": "x@example.com"})
    assert refused.status_code == 200 and "unit" in refused.context["adminform"].form.errors
    client.post(PAGES["invite"], {"unit": oak.pk, "email": "New.Person@example.com"})
    invitation = Invitation.objects.get()
    assert (invitation.unit, invitation.email, invitation.status) == (
        oak,
        "new.person@example.com",
        "pending",
    )
    [event] = OutboxMessage.objects.filter(event="invitation.created")
    assert event.payload[0]["data"] == {"invitation_id": invitation.pk}
    client.post(PAGES["invitations"], {"action": "revoke", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert logged_in("maintenance").get(PAGES["invite"]).status_code == 403
