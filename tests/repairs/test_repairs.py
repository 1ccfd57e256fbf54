from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

import celeryconfig
from apps.messaging.models import OutboxMessage
from apps.repairs import services
from apps.repairs.models import RepairRequest, RepairStatus, RepairStatusChange
from tests.factories import RepairRequestFactory, ResidencyFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/repairs/"
S = RepairStatus


def detail(repair):
    return f"{URL}{repair.pk}/"


def rows(event):
    return list(OutboxMessage.objects.filter(event=event).order_by("task_name"))


# --- submitting --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urgency", "priority"),
    [
        ("urgent", celeryconfig.URGENCY_PRIORITY["urgent"]),
        ("normal", celeryconfig.URGENCY_PRIORITY["normal"]),
        ("low", celeryconfig.URGENCY_PRIORITY["low"]),
    ],
)
def test_resident_submits_for_own_unit(world, api, urgency, priority):
    site = world.a
    body = {
        "category": "heating",
        "description": "No heat",
        "urgency": urgency,
        "preferred_window": "weekday mornings",
    }
    r = api(site.resident).post(URL, body, format="json")
    assert r.status_code == 201, r.data
    repair = RepairRequest.objects.get(pk=r.data["id"])
    assert (repair.status, repair.version, repair.unit, repair.property) == (
        S.SUBMITTED,
        1,
        site.unit,
        site.property,
    )
    assert r.data["history"][0]["to_status"] == "submitted"
    assert r.data["allowed_transitions"] == ["cancelled"]
    msgs = rows("repair.requested")
    assert [m.task_name for m in msgs] == [
        "maintenance.notify_repair_requested",
        "reporting.record_event",
    ]
    maintenance = msgs[0]
    assert maintenance.queue == "repair_requests"
    assert maintenance.priority == priority
    assert maintenance.payload[0]["data"] == {
        "repair_id": repair.pk,
        "property_id": site.property.pk,
        "unit_id": site.unit.pk,
        "resident_id": site.resident.pk,
        "category": "heating",
        "urgency": urgency,
        "requested_at": repair.created_at.isoformat(),
        "status": "submitted",
        "version": 1,
    }


def test_urgent_priority_is_nine(world):
    RepairRequestFactory(site=world.a)  # an earlier repair publishes nothing here
    repair = services.repair_request_submit(
        resident=world.a.resident, category="electrical", description="Sparks", urgency="urgent"
    )
    row = OutboxMessage.objects.get(event="repair.requested", queue="repair_requests")
    assert row.priority == 9
    assert row.payload[0]["data"]["repair_id"] == repair.pk


def test_submit_for_someone_elses_unit_is_400(world, api):
    r = api(world.a.resident).post(
        URL, {"category": "pest", "description": "x", "unit": world.b.unit.pk}, format="json"
    )
    assert r.status_code == 400
    assert "unit" in r.data


def test_resident_with_two_units_chooses(world, api):
    second = UnitFactory(property=world.a.property)
    ResidencyFactory(resident=world.a.resident, unit=second)
    r = api(world.a.resident).post(
        URL, {"category": "pest", "description": "x", "unit": second.pk}, format="json"
    )
    assert r.status_code == 201
    assert r.data["unit"] == second.pk


def test_resident_without_unit_gets_400(world, api):
    homeless = UserFactory(role="resident")
    r = api(homeless).post(URL, {"category": "pest", "description": "x"}, format="json")
    assert r.status_code == 400
    assert "unit" in r.data


@pytest.mark.parametrize("role", ["maintenance", "manager", "admin", "security"])
def test_only_residents_submit(world, api, role):
    r = api(world.user(role)).post(URL, {"category": "pest", "description": "x"}, format="json")
    assert r.status_code == 403


def test_anonymous_is_401(api):
    assert api().get(URL).status_code == 401


# --- the transition table --------------------------------------------------------------

LEGAL = sorted(services.REPAIR_WORKFLOW.transitions, key=lambda step: (step[0], step[1]))


def actor_for(world, step):
    actors = services.REPAIR_WORKFLOW.transitions[step]
    return world.a.resident if services.RESIDENT in actors else world.a.staff["maintenance"]


@pytest.mark.parametrize(("from_status", "to_status"), LEGAL)
def test_each_legal_step(world, api, from_status, to_status):
    resolved_at = timezone.now() - timedelta(days=1) if from_status == S.RESOLVED else None
    repair = RepairRequestFactory(
        site=world.a, status=from_status, urgency="urgent", resolved_at=resolved_at
    )
    user = actor_for(world, (from_status, to_status))
    r = api(user).post(
        f"{detail(repair)}transition/", {"status": to_status, "note": "ok"}, format="json"
    )
    assert r.status_code == 200, r.data
    repair.refresh_from_db()
    assert repair.status == to_status
    assert repair.version == 2
    change = RepairStatusChange.objects.filter(repair=repair).last()
    assert (change.from_status, change.to_status, change.changed_by, change.note) == (
        from_status,
        to_status,
        user,
        "ok",
    )
    assert r.data["history"][-1]["to_status"] == to_status
    msgs = rows("repair.status_changed")
    assert len(msgs) == 2
    maintenance = next(m for m in msgs if m.queue == "repair_requests")
    assert maintenance.priority == celeryconfig.URGENCY_PRIORITY["urgent"]
    data = maintenance.payload[0]["data"]
    assert data == {
        "repair_id": repair.pk,
        "property_id": world.a.property.pk,
        "unit_id": world.a.unit.pk,
        "resident_id": world.a.resident.pk,
        "category": "plumbing",
        "urgency": "urgent",
        "requested_at": repair.created_at.isoformat(),
        "from_status": from_status,
        "status": to_status,
        "version": 2,
        "changed_by_id": user.pk,
        "changed_at": change.changed_at.isoformat(),
    }
    if to_status == S.RESOLVED:
        assert repair.resolved_at is not None


ILLEGAL = [
    (frm, to)
    for frm in S.values
    for to in S.values
    if (frm, to) not in services.REPAIR_WORKFLOW.transitions and to != S.SUBMITTED
]


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL)
def test_each_illegal_step_is_409_naming_allowed(world, api, from_status, to_status):
    repair = RepairRequestFactory(site=world.a, status=from_status)
    if to_status in services.REPAIR_WORKFLOW.targets_of(services.STAFF):
        user = world.a.staff["maintenance"]
    else:
        user = world.a.resident
    r = api(user).post(f"{detail(repair)}transition/", {"status": to_status}, format="json")
    assert r.status_code == 409, r.data
    allowed = services.REPAIR_WORKFLOW.allowed(from_status)
    assert r.data["allowed_transitions"] == allowed
    for name in allowed:
        assert f"{name}" in r.data["detail"]
    if not allowed:
        assert "none" in r.data["detail"]
    repair.refresh_from_db()
    assert (repair.status, repair.version) == (from_status, 1)
    assert not OutboxMessage.objects.exists()


def test_submitted_is_never_a_target(world, api):
    repair = RepairRequestFactory(site=world.a, status=S.ACKNOWLEDGED)
    r = api(world.a.staff["maintenance"]).post(
        f"{detail(repair)}transition/", {"status": "submitted"}, format="json"
    )
    assert r.status_code == 403


def test_full_lifecycle_with_reopen(world, api):
    repair = RepairRequestFactory(site=world.a)
    staff, resident = api(world.a.staff["maintenance"]), api(world.a.resident)
    steps = [
        (staff, "acknowledged"),
        (staff, "scheduled"),
        (staff, "in_progress"),
        (staff, "resolved"),
        (resident, "reopened"),
        (staff, "scheduled"),
        (staff, "in_progress"),
        (staff, "resolved"),
        (resident, "closed"),
    ]
    for client, target in steps:
        r = client.post(f"{detail(repair)}transition/", {"status": target}, format="json")
        assert r.status_code == 200, (target, r.data)
    repair.refresh_from_db()
    assert (repair.status, repair.version) == (S.CLOSED, 1 + len(steps))
    history = api(world.a.resident).get(f"{detail(repair)}history/").data
    assert [h["to_status"] for h in history] == ["submitted", *[t for _, t in steps]]
    assert len(rows("repair.status_changed")) == 2 * len(steps)


# --- reopen window, cancel rules, roles --------------------------------------------------


@pytest.mark.parametrize(("days_ago", "expected"), [(1, 200), (13, 200), (15, 409), (60, 409)])
def test_reopen_window(world, api, days_ago, expected):
    resolved_at = timezone.now() - timedelta(days=days_ago)
    repair = RepairRequestFactory(site=world.a, status=S.RESOLVED, resolved_at=resolved_at)
    assert api(world.a.resident).get(detail(repair)).data["allowed_transitions"] == (
        ["closed", "reopened"] if expected == 200 else ["closed"]
    )
    r = api(world.a.resident).post(
        f"{detail(repair)}transition/", {"status": "reopened"}, format="json"
    )
    assert r.status_code == expected, r.data
    if expected == 409:
        assert "14 days" in r.data["detail"]
        assert r.data["allowed_transitions"] == ["closed"]
        assert not OutboxMessage.objects.exists()
    else:
        repair.refresh_from_db()
        assert (repair.status, repair.resolved_at, repair.version) == (S.REOPENED, None, 2)


def test_reopen_window_boundary_is_inclusive_of_14_days(world):
    resolved_at = timezone.now() - timedelta(days=14) + timedelta(minutes=1)
    repair = RepairRequestFactory(site=world.a, status=S.RESOLVED, resolved_at=resolved_at)
    services.repair_transition(repair=repair, to_status=S.REOPENED, user=world.a.resident)
    repair.refresh_from_db()
    assert (repair.status, repair.resolved_at) == (S.REOPENED, None)


@pytest.mark.parametrize("from_status", [S.SUBMITTED, S.ACKNOWLEDGED, S.SCHEDULED])
def test_resident_cancels_before_work_starts(world, api, from_status):
    repair = RepairRequestFactory(site=world.a, status=from_status)
    r = api(world.a.resident).post(
        f"{detail(repair)}transition/", {"status": "cancelled"}, format="json"
    )
    assert r.status_code == 200
    assert r.data["status"] == "cancelled"
    assert r.data["allowed_transitions"] == []


@pytest.mark.parametrize("from_status", [S.IN_PROGRESS, S.RESOLVED, S.CLOSED, S.REOPENED])
def test_cancel_after_work_started_is_409(world, api, from_status):
    repair = RepairRequestFactory(site=world.a, status=from_status)
    r = api(world.a.resident).post(
        f"{detail(repair)}transition/", {"status": "cancelled"}, format="json"
    )
    assert r.status_code == 409


@pytest.mark.parametrize("role", ["maintenance", "manager", "admin"])
@pytest.mark.parametrize("target", ["cancelled", "reopened"])
def test_staff_may_never_cancel_or_reopen(world, api, role, target):
    repair = RepairRequestFactory(site=world.a)
    r = api(world.user(role)).post(
        f"{detail(repair)}transition/", {"status": target}, format="json"
    )
    assert r.status_code == 403


@pytest.mark.parametrize("target", ["acknowledged", "scheduled", "in_progress", "resolved"])
def test_resident_may_never_do_staff_steps(world, api, target):
    repair = RepairRequestFactory(site=world.a)
    r = api(world.a.resident).post(
        f"{detail(repair)}transition/", {"status": target}, format="json"
    )
    assert r.status_code == 403


def test_co_resident_who_did_not_submit_may_not_cancel(world, api):
    repair = RepairRequestFactory(site=world.a)
    flatmate = UserFactory(role="resident", unit=world.a.unit)
    assert api(flatmate).get(detail(repair)).status_code == 200
    r = api(flatmate).post(f"{detail(repair)}transition/", {"status": "cancelled"}, format="json")
    assert r.status_code == 403


def test_neighbour_and_other_property_see_404(world, api):
    repair = RepairRequestFactory(site=world.a)
    for user in (world.neighbour, world.b.resident, world.b.staff["maintenance"]):
        assert api(user).get(detail(repair)).status_code == 404
        r = api(user).post(
            f"{detail(repair)}transition/",
            {"status": "cancelled" if user.role == "resident" else "acknowledged"},
            format="json",
        )
        assert r.status_code == 404


@pytest.mark.parametrize(
    "body", [{}, {"status": "done"}, {"status": "closed", "version": 0}, {"status": None}]
)
def test_transition_validation_400(world, api, body):
    repair = RepairRequestFactory(site=world.a)
    r = api(world.a.staff["maintenance"]).post(f"{detail(repair)}transition/", body, format="json")
    assert r.status_code == 400
    assert set(r.data) & {"status", "version"}


def test_stale_version_is_409(world, api):
    repair = RepairRequestFactory(site=world.a)
    client = api(world.a.staff["maintenance"])
    url = f"{detail(repair)}transition/"
    ok = client.post(url, {"status": "acknowledged", "version": 1}, format="json")
    assert ok.status_code == 200
    stale = client.post(url, {"status": "scheduled", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.data["version"] == 2


def test_unknown_repair_is_404(world, api):
    r = api(world.admin).post(f"{URL}999999/transition/", {"status": "acknowledged"})
    assert r.status_code == 404
    assert api(world.admin).get(f"{URL}not-a-number/").status_code == 404


# --- transactions ----------------------------------------------------------------------


def test_outbox_rows_are_written_in_the_services_transaction(world):
    with transaction.atomic():
        repair = services.repair_request_submit(
            resident=world.a.resident, category="pest", description="Mice"
        )
        assert OutboxMessage.objects.filter(event="repair.requested").count() == 2
        services.repair_transition(
            repair=repair, to_status=S.ACKNOWLEDGED, user=world.a.staff["maintenance"]
        )
        assert OutboxMessage.objects.filter(event="repair.status_changed").count() == 2


def test_rolled_back_service_call_publishes_nothing(world):
    class Boom(Exception):
        pass

    repair = RepairRequestFactory(site=world.a)
    with pytest.raises(Boom), transaction.atomic():
        services.repair_request_submit(
            resident=world.a.resident, category="pest", description="Mice"
        )
        services.repair_transition(
            repair=repair, to_status=S.ACKNOWLEDGED, user=world.a.staff["maintenance"]
        )
        raise Boom
    assert not OutboxMessage.objects.exists()
    assert RepairRequest.objects.count() == 1
    repair.refresh_from_db()
    assert (repair.status, repair.version) == (S.SUBMITTED, 1)
    assert RepairStatusChange.objects.filter(repair=repair).count() == 1


def test_illegal_step_in_service_writes_nothing(world):
    from apps.core.errors import Conflict

    repair = RepairRequestFactory(site=world.a)
    with pytest.raises(Conflict):
        services.repair_transition(
            repair=repair, to_status=S.RESOLVED, user=world.a.staff["maintenance"]
        )
    assert not OutboxMessage.objects.exists()
    assert RepairStatusChange.objects.filter(repair=repair).count() == 1


# --- listing -----------------------------------------------------------------------------


def test_list_scoping_filters_and_ordering(world, api):
    low = RepairRequestFactory(site=world.a, urgency="low")
    urgent = RepairRequestFactory(site=world.a, urgency="urgent", status=S.ACKNOWLEDGED)
    other = RepairRequestFactory(site=world.b)
    maint = api(world.a.staff["maintenance"])
    r = maint.get(URL)
    assert r.status_code == 200
    assert r.data["count"] == 2
    assert {x["id"] for x in r.data["results"]} == {low.pk, urgent.pk}
    assert [x["id"] for x in maint.get(URL, {"ordering": "-urgency"}).data["results"]] == [
        urgent.pk,
        low.pk,
    ]
    assert [x["id"] for x in maint.get(URL, {"status": "acknowledged"}).data["results"]] == [
        urgent.pk
    ]
    assert [x["id"] for x in maint.get(URL, {"urgency": "low"}).data["results"]] == [low.pk]
    assert maint.get(URL, {"category": "plumbing"}).data["count"] == 2
    assert maint.get(URL, {"property": world.b.property.pk}).data["count"] == 0
    today = timezone.localdate().isoformat()
    assert maint.get(URL, {"created_from": today, "created_to": today}).data["count"] == 2
    assert maint.get(URL, {"created_to": "2000-01-01"}).data["count"] == 0
    assert api(world.admin).get(URL).data["count"] == 3
    assert (
        api(world.admin).get(URL, {"property": world.b.property.pk}).data["results"][0]["id"]
        == other.pk
    )
    assert api(world.a.staff["manager"]).get(URL).data["count"] == 2
    assert api(world.b.resident).get(URL).data["count"] == 1
    assert api(world.neighbour).get(URL).data["count"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nope"},
        {"created_from": "not-a-date"},
        {"property": "x"},
        {"urgency": "x"},
        {"category": "x"},
    ],
)
def test_bad_filters_are_400(world, api, params):
    RepairRequestFactory(site=world.a)
    assert api(world.admin).get(URL, params).status_code == 400


def test_bad_ordering_is_ignored(world, api):
    RepairRequestFactory(site=world.a)
    assert api(world.admin).get(URL, {"ordering": "password"}).status_code == 200


def test_conflict_message_names_allowed_steps_and_who(world, api):
    repair = RepairRequestFactory(site=world.a)
    r = api(world.a.staff["maintenance"]).post(
        f"{detail(repair)}transition/", {"status": "resolved"}, format="json"
    )
    assert r.status_code == 409
    assert r.data == {
        "detail": "A repair cannot go from 'submitted' to 'resolved'. Allowed from "
        "'submitted': acknowledged (by staff), cancelled (by resident).",
        "status": "submitted",
        "allowed_transitions": ["acknowledged", "cancelled"],
    }
