import pytest
from django.db import transaction

from apps.complaints import services
from apps.complaints.models import (
    Complaint,
    ComplaintComment,
    ComplaintStatus,
    ComplaintStatusChange,
)
from apps.core.errors import Conflict
from apps.messaging.models import OutboxMessage
from tests.factories import ComplaintFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/complaints/"
S = ComplaintStatus


def detail(c):
    return f"{URL}{c.pk}/"


def updated_data():
    row = OutboxMessage.objects.get(
        event="complaint.updated", task_name="customer_service.notify_complaint_updated"
    )
    return row.payload[0]["data"]


def test_resident_files_complaint(world, api):
    site = world.a
    body = {"category": "cleanliness", "subject": "Stairs", "description": "Dirty stairs"}
    r = api(site.resident).post(URL, body, format="json")
    assert r.status_code == 201, r.data
    c = Complaint.objects.get(pk=r.data["id"])
    assert (c.status, c.version, c.unit, c.property, c.resident) == (
        S.OPEN,
        1,
        site.unit,
        site.property,
        site.resident,
    )
    assert r.data["comments"] == []
    assert r.data["history"][0]["to_status"] == "open"
    rows = OutboxMessage.objects.filter(event="complaint.filed").order_by("task_name")
    assert [m.task_name for m in rows] == [
        "customer_service.notify_complaint_filed",
        "reporting.record_event",
    ]
    assert rows[0].queue == "complaints"
    assert rows[0].payload[0]["data"] == {
        "complaint_id": c.pk,
        "property_id": site.property.pk,
        "unit_id": site.unit.pk,
        "resident_id": site.resident.pk,
        "category": "cleanliness",
        "status": "open",
        "version": 1,
    }


def test_file_for_other_unit_is_400(world, api):
    body = {"category": "noise", "subject": "s", "description": "d", "unit": world.b.unit.pk}
    r = api(world.a.resident).post(URL, body, format="json")
    assert r.status_code == 400
    assert "unit" in r.data


def test_resident_without_unit_is_400(world, api):
    body = {"category": "noise", "subject": "s", "description": "d"}
    r = api(UserFactory(role="resident")).post(URL, body, format="json")
    assert r.status_code == 400
    assert "unit" in r.data


@pytest.mark.parametrize(
    ("from_status", "to_status"), sorted(services.COMPLAINT_WORKFLOW.transitions)
)
@pytest.mark.parametrize("role", ["customer_service", "manager", "admin"])
def test_each_legal_step(world, api, from_status, to_status, role):
    c = ComplaintFactory(site=world.a, status=from_status)
    user = world.user(role)
    r = api(user).post(f"{detail(c)}transition/", {"status": to_status, "note": "n"}, format="json")
    assert r.status_code == 200, r.data
    c.refresh_from_db()
    assert (c.status, c.version) == (to_status, 2)
    change = ComplaintStatusChange.objects.filter(complaint=c).last()
    assert (change.from_status, change.to_status, change.changed_by, change.note) == (
        from_status,
        to_status,
        user,
        "n",
    )
    assert updated_data() == {
        "complaint_id": c.pk,
        "property_id": world.a.property.pk,
        "unit_id": world.a.unit.pk,
        "resident_id": world.a.resident.pk,
        "category": "noise",
        "change": "status",
        "from_status": from_status,
        "status": to_status,
        "comment_id": None,
        "version": 2,
    }
    assert (c.resolved_at is not None) == (to_status in (S.RESOLVED,))


ILLEGAL = [
    (f, t)
    for f in S.values
    for t in S.values
    if (f, t) not in services.COMPLAINT_WORKFLOW.transitions
]


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL)
def test_each_illegal_step_is_409_naming_allowed(world, api, from_status, to_status):
    c = ComplaintFactory(site=world.a, status=from_status)
    r = api(world.a.staff["customer_service"]).post(
        f"{detail(c)}transition/", {"status": to_status}, format="json"
    )
    assert r.status_code == 409
    allowed = services.COMPLAINT_WORKFLOW.allowed(from_status)
    assert r.data["allowed_transitions"] == allowed
    assert all(a in r.data["detail"] for a in allowed)
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("role", ["resident", "maintenance", "security"])
def test_roles_that_never_move_complaints(world, api, role):
    c = ComplaintFactory(site=world.a)
    r = api(world.user(role)).post(
        f"{detail(c)}transition/", {"status": "in_review"}, format="json"
    )
    assert r.status_code == 403


def test_stale_version_is_409(world, api):
    c = ComplaintFactory(site=world.a)
    client = api(world.a.staff["customer_service"])
    r = client.post(f"{detail(c)}transition/", {"status": "in_review", "version": 5})
    assert r.status_code == 409
    assert r.data["version"] == 1


# --- comments ----------------------------------------------------------------------------


def test_staff_reply_and_resident_comment(world, api):
    c = ComplaintFactory(site=world.a, status=S.IN_REVIEW)
    cs = world.a.staff["customer_service"]
    r = api(cs).post(f"{detail(c)}comments/", {"body": "We are on it"}, format="json")
    assert r.status_code == 201, r.data
    comment = ComplaintComment.objects.get(pk=r.data["id"])
    assert (comment.author, comment.body) == (cs, "We are on it")
    assert updated_data() == {
        "complaint_id": c.pk,
        "property_id": world.a.property.pk,
        "unit_id": world.a.unit.pk,
        "resident_id": world.a.resident.pk,
        "category": "noise",
        "change": "reply",
        "from_status": "in_review",
        "status": "in_review",
        "comment_id": comment.pk,
        "version": 2,
    }
    OutboxMessage.objects.all().delete()
    r = api(world.a.resident).post(f"{detail(c)}comments/", {"body": "Thanks"}, format="json")
    assert r.status_code == 201
    assert updated_data()["version"] == 3
    thread = api(world.a.resident).get(f"{detail(c)}comments/").data
    assert [x["body"] for x in thread] == ["We are on it", "Thanks"]
    assert thread[0]["author_role"] == "customer_service"
    assert [x["body"] for x in api(world.a.resident).get(detail(c)).data["comments"]] == [
        "We are on it",
        "Thanks",
    ]


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "x" * 5001}, {"body": None}])
def test_comment_validation(world, api, body):
    c = ComplaintFactory(site=world.a)
    r = api(world.a.resident).post(f"{detail(c)}comments/", body, format="json")
    assert r.status_code == 400
    assert "body" in r.data


def test_no_comments_on_closed_complaint(world, api):
    c = ComplaintFactory(site=world.a, status=S.CLOSED)
    r = api(world.a.staff["customer_service"]).post(f"{detail(c)}comments/", {"body": "x"})
    assert r.status_code == 409
    assert not ComplaintComment.objects.exists()


def test_flatmate_neither_sees_nor_comments(world, api):
    c = ComplaintFactory(site=world.a)
    flatmate = UserFactory(role="resident", unit=world.a.unit)
    assert api(flatmate).get(detail(c)).status_code == 404
    assert api(flatmate).post(f"{detail(c)}comments/", {"body": "x"}).status_code == 404
    assert api(flatmate).get(URL).data["count"] == 0


# --- rating ----------------------------------------------------------------------------


@pytest.mark.parametrize("status_", [S.RESOLVED, S.CLOSED])
def test_rate_once_resolved_or_closed(world, api, status_):
    c = ComplaintFactory(site=world.a, status=status_)
    url = f"{detail(c)}rate/"
    r = api(world.a.resident).post(url, {"rating": 4, "comment": "Quick"}, format="json")
    assert r.status_code == 200, r.data
    assert (r.data["rating"], r.data["rating_comment"], r.data["version"]) == (4, "Quick", 2)
    again = api(world.a.resident).post(url, {"rating": 5}, format="json")
    assert again.status_code == 409
    c.refresh_from_db()
    assert c.rating == 4


@pytest.mark.parametrize("status_", [S.OPEN, S.IN_REVIEW])
def test_rate_before_resolution_is_409(world, api, status_):
    c = ComplaintFactory(site=world.a, status=status_)
    r = api(world.a.resident).post(f"{detail(c)}rate/", {"rating": 3}, format="json")
    assert r.status_code == 409
    assert "resolved or closed" in r.data["detail"]


@pytest.mark.parametrize("rating", [0, 6, "five", None, 2.5, -1])
def test_rating_validation(world, api, rating):
    c = ComplaintFactory(site=world.a, status=S.RESOLVED)
    r = api(world.a.resident).post(f"{detail(c)}rate/", {"rating": rating}, format="json")
    assert r.status_code == 400
    assert "rating" in r.data


@pytest.mark.parametrize("role", ["customer_service", "manager", "admin", "maintenance"])
def test_staff_may_never_rate(world, api, role):
    c = ComplaintFactory(site=world.a, status=S.RESOLVED)
    r = api(world.user(role)).post(f"{detail(c)}rate/", {"rating": 5}, format="json")
    assert r.status_code == 403


def test_service_rejects_out_of_range_rating(world):
    from django.core.exceptions import ValidationError

    c = ComplaintFactory(site=world.a, status=S.RESOLVED)
    with pytest.raises(ValidationError):
        services.complaint_rate(complaint=c, user=world.a.resident, rating=7)


# --- transactions, listing ----------------------------------------------------------------


def test_rolled_back_service_call_publishes_nothing(world):
    c = ComplaintFactory(site=world.a)
    cs = world.a.staff["customer_service"]
    with pytest.raises(RuntimeError), transaction.atomic():
        services.complaint_file(
            resident=world.a.resident, category="billing", subject="s", description="d"
        )
        services.complaint_comment_add(complaint=c, author=cs, body="hi")
        services.complaint_transition(complaint=c, to_status=S.IN_REVIEW, user=cs)
        assert OutboxMessage.objects.count() == 6  # 3 events x 2 subscribers, same tx
        raise RuntimeError
    assert not OutboxMessage.objects.exists()
    assert Complaint.objects.count() == 1
    assert not ComplaintComment.objects.exists()
    c.refresh_from_db()
    assert (c.status, c.version) == (S.OPEN, 1)


def test_illegal_step_in_service_writes_nothing(world):
    c = ComplaintFactory(site=world.a)
    with pytest.raises(Conflict):
        services.complaint_transition(
            complaint=c, to_status=S.CLOSED, user=world.a.staff["customer_service"]
        )
    assert not OutboxMessage.objects.exists()


def test_list_scoping_filters_ordering(world, api):
    a1 = ComplaintFactory(site=world.a)
    a2 = ComplaintFactory(site=world.a, status=S.RESOLVED, rating=5)
    ComplaintFactory(site=world.b)
    cs = api(world.a.staff["customer_service"])
    assert cs.get(URL).data["count"] == 2
    assert [x["id"] for x in cs.get(URL, {"status": "resolved"}).data["results"]] == [a2.pk]
    assert [x["id"] for x in cs.get(URL, {"ordering": "created_at"}).data["results"]] == [
        a1.pk,
        a2.pk,
    ]
    assert [x["id"] for x in cs.get(URL, {"rated": "true"}).data["results"]] == [a2.pk]
    assert cs.get(URL, {"property": world.b.property.pk}).data["count"] == 0
    assert cs.get(URL, {"created_from": "2999-01-01"}).data["count"] == 0
    assert cs.get(URL, {"created_from": "bad"}).status_code == 400
    assert cs.get(URL, {"status": "bad"}).status_code == 400
    assert api(world.admin).get(URL).data["count"] == 3
    assert api(world.a.resident).get(URL).data["count"] == 2
    assert api(world.neighbour).get(URL).data["count"] == 0
    assert api(world.a.staff["maintenance"]).get(URL).status_code == 403
