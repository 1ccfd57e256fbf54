"""Properties and units: who reads what, who manages, and the 400s."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.accounts.models import Role
from apps.properties.models import Property, StaffAssignment, Unit
from tests.factories import PropertyFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

P, U = "/api/v1/properties/", "/api/v1/units/"


@pytest.fixture
def two():
    a, b = PropertyFactory(code="oak"), PropertyFactory(code="elm")
    return a, b, UnitFactory(property=a, code="OAK-1"), UnitFactory(property=b, code="ELM-1")


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_resident_reads_own_unit_and_property_only(api, two):
    a, b, ua, ub = two
    resident = UserFactory(role=Role.RESIDENT, unit=ua)
    UnitFactory(property=a, code="OAK-2")  # a neighbour's unit in the same property
    client = api(resident)
    assert ids(client.get(P)) == {a.id}
    assert ids(client.get(U)) == {ua.id}
    assert client.get(f"{U}{ub.id}/").status_code == 404
    assert client.get(f"{P}{b.id}/").status_code == 404
    assert client.patch(f"{P}{a.id}/", {"name": "x"}, format="json").status_code == 403
    assert client.post(P, {"name": "x", "code": "x"}, format="json").status_code == 403


def test_list_has_counts_and_filters(api, two):
    a, _, ua, _ = two
    UnitFactory(property=a, code="OAK-2")
    body = api(UserFactory(role=Role.ADMIN)).get(U, {"property": a.id, "ordering": "-code"}).json()
    assert body["count"] == 2
    assert [row["code"] for row in body["results"]] == ["OAK-2", "OAK-1"]


def test_manager_creating_a_property_is_assigned_to_it(api, two):
    manager = UserFactory(role=Role.MANAGER, property=two[0])
    client = api(manager)
    response = client.post(P, {"name": "Birch", "code": "birch"}, format="json")
    assert response.status_code == 201, response.content
    prop = Property.objects.get(code="birch")
    assert StaffAssignment.objects.filter(staff=manager, property=prop, role="manager").exists()
    assert client.get(f"{P}{prop.id}/").status_code == 200


def test_manager_updates_own_property_not_another(api, two):
    a, b, _, _ = two
    client = api(UserFactory(role=Role.MANAGER, property=a))
    assert client.patch(f"{P}{a.id}/", {"name": "Oak Court"}, format="json").status_code == 200
    assert Property.objects.get(id=a.id).name == "Oak Court"
    assert client.patch(f"{P}{b.id}/", {"name": "Mine"}, format="json").status_code == 404
    assert Property.objects.get(id=b.id).name != "Mine"


def test_property_validation_is_400_with_fields(api, two):
    client = api(UserFactory(role=Role.ADMIN))
    response = client.post(P, {"name": "", "code": "oak"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "code"}  # blank name; duplicate code
    response = client.post(P, {"name": "X", "code": "not a slug!"}, format="json")
    assert response.status_code == 400 and "code" in response.json()


def test_units_created_only_in_own_properties(api, two):
    a, b, ua, _ = two
    client = api(UserFactory(role=Role.MANAGER, property=a))
    ok = client.post(U, {"property": a.id, "code": "OAK-9", "floor": "9"}, format="json")
    assert ok.status_code == 201, ok.content
    other = client.post(U, {"property": b.id, "code": "ELM-9"}, format="json")
    assert other.status_code == 400 and "property" in other.json()
    duplicate = client.post(U, {"property": a.id, "code": "OAK-1"}, format="json")
    assert duplicate.status_code == 400 and "code" in duplicate.json()
    moved = client.patch(f"{U}{ua.id}/", {"property": b.id}, format="json")
    assert moved.status_code == 400
    assert not Unit.objects.filter(code="ELM-9").exists()


@pytest.mark.parametrize("role", [Role.MAINTENANCE, Role.SECURITY, Role.CUSTOMER_SERVICE])
def test_other_staff_read_assigned_properties_but_never_manage(api, two, role):
    a, b, ua, _ = two
    client = api(UserFactory(role=role, property=a))
    assert ids(client.get(P)) == {a.id}
    assert client.get(f"{U}{ua.id}/").status_code == 200
    assert client.patch(f"{U}{ua.id}/", {"floor": "2"}, format="json").status_code == 403
    assert client.post(U, {"property": a.id, "code": "Z"}, format="json").status_code == 403


def test_no_500_for_junk(api, two):
    client = api(UserFactory(role=Role.ADMIN))
    for url in (f"{P}abc/", f"{U}99999999999999999999/"):
        assert client.get(url).status_code == 404
    junk = client.post(U, {"property": "abc", "code": ["x"]}, format="json")
    assert junk.status_code == 400
    assert client.get(P, {"created_at__gte": "not-a-date"}).status_code == 400


def test_admin_site_shows_staff_only_their_properties(two):
    a, b, ua, ub = two
    manager = UserFactory(role=Role.MANAGER, property=a, is_staff=True)
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_property", "view_unit"])
    )
    client = Client()
    client.force_login(manager)
    page = client.get("/admin/properties/unit/").content.decode()
    assert ua.code in page and ub.code not in page
    assert client.get(f"/admin/properties/property/{b.id}/change/").status_code in (302, 404)
    assert client.get(f"/admin/properties/property/{a.id}/change/").status_code == 200


def test_admin_user_list_is_scoped_to_own_properties(two):
    a, b, ua, ub = two
    manager = UserFactory(role=Role.MANAGER, property=a, is_staff=True)
    manager.user_permissions.add(*Permission.objects.filter(codename="view_user"))
    mine, theirs = UserFactory(unit=ua), UserFactory(unit=ub)
    client = Client()
    client.force_login(manager)
    page = client.get("/admin/accounts/user/").content.decode()
    assert mine.username in page and theirs.username not in page
