"""No list filter, and no id in a request body, is an existence oracle.

Filtering by an id the caller may not see — another property's object, an id that does
not exist, any integer at all — answers exactly like filtering the visible rows by it
(200, and the rows the caller sees with that id: none). A filter that checked ids against
the whole table (400 "select a valid choice" for an id that does not exist, 200 [] for
another property's) told a stranger which ids exist. An id in a body the caller may not
choose is refused with the same message whether it exists or not.

The id filters are found in the OpenAPI schema (every integer query parameter of a list
but `page`), so a filter added without a row in FILTERS fails here.
"""

import pytest
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.amenities.models import Amenity
from tests.factories import (
    AssetFactory,
    ComplaintFactory,
    ParcelFactory,
    RepairRequestFactory,
    ResidencyFactory,
    VisitorFactory,
)
from tests.test_permissions import booking, daily_stat, invitation, move_out, reservation

pytestmark = pytest.mark.django_db

# (list path, query parameter) -> (the row field it filters on, roles that list it).
# Report rows name their property as `property_id`.
FILTERS = {
    ("/api/v1/units/", "property"): ("property", ["manager", "resident"]),
    ("/api/v1/assets/", "property"): ("property", ["maintenance"]),
    ("/api/v1/visitors/", "property"): ("property", ["security", "resident"]),
    ("/api/v1/visitors/", "unit"): ("unit", ["security", "resident"]),
    ("/api/v1/visitors/", "host"): ("host", ["security", "resident"]),
    ("/api/v1/residencies/", "unit"): ("unit", ["manager"]),
    ("/api/v1/invitations/", "unit"): ("unit", ["manager"]),
    ("/api/v1/repairs/", "property"): ("property", ["maintenance"]),
    ("/api/v1/repairs/", "unit"): ("unit", ["resident"]),
    ("/api/v1/complaints/", "property"): ("property", ["customer_service"]),
    ("/api/v1/complaints/", "unit"): ("unit", ["resident"]),
    ("/api/v1/reports/daily/", "property"): ("property_id", ["manager"]),
    ("/api/v1/reports/repairs/", "property"): ("property_id", ["manager"]),
    ("/api/v1/reports/complaints/", "property"): ("property_id", ["manager"]),
    ("/api/v1/reports/visitors/", "property"): ("property_id", ["manager"]),
    ("/api/v1/reports/assets/", "property"): ("property_id", ["manager"]),
    ("/api/v1/amenities/", "property"): ("property", ["manager", "resident"]),
    ("/api/v1/reservations/", "property"): ("property", ["manager", "resident"]),
    ("/api/v1/reservations/", "amenity"): ("amenity", ["manager", "resident"]),
    ("/api/v1/reports/amenities/", "property"): ("property_id", ["manager"]),
    ("/api/v1/reports/parcels/", "property"): ("property_id", ["manager"]),
    ("/api/v1/parcels/", "property"): ("property", ["security", "resident"]),
    ("/api/v1/parcels/", "unit"): ("unit", ["security", "resident"]),
    ("/api/v1/move-outs/", "property"): ("property", ["manager", "resident"]),
    ("/api/v1/move-outs/", "unit"): ("unit", ["manager", "resident"]),
    ("/api/v1/reports/moves/", "property"): ("property_id", ["manager"]),
}
CASES = [
    pytest.param(path, param, role, id=f"{path}?{param}-{role}")
    for (path, param), (_, roles) in FILTERS.items()
    for role in roles
]


def test_every_id_filter_is_covered():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    served = {
        (path, p["name"])
        for path, operations in schema["paths"].items()
        for p in operations.get("get", {}).get("parameters", [])
        if p["in"] == "query"
        and p["schema"].get("type") in ("integer", "number")
        and p["name"] != "page"
    }
    assert served == set(FILTERS)


@pytest.fixture
def populated(world):
    """Something of every listed kind at both properties (and a claim of a stranger)."""
    for site in (world.a, world.b):
        AssetFactory(site=site), VisitorFactory(site=site), RepairRequestFactory(site=site)
        ComplaintFactory(site=site), invitation(site), daily_stat(site), reservation(site)
        ParcelFactory(site=site), move_out(site)
        ResidencyFactory(unit=site.unit, start_date="2026-01-01", status="pending")
    cache.clear()
    return world


def rows(response):
    assert response.status_code == 200, response.content
    data = response.json()
    return data["results"] if isinstance(data, dict) else data


@pytest.mark.parametrize(("path", "param", "role"), CASES)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_id_filter_answers_only_what_the_caller_sees(populated, api, path, param, role, data):
    world = populated
    field = FILTERS[(path, param)][0]
    client = api(world.user(role))
    visible = rows(client.get(path))
    other_site = {
        "property": world.b.property.pk,
        "unit": world.b.unit.pk,
        "host": world.b.resident.pk,
        "amenity": Amenity.objects.filter(property=world.b.property).first().pk,
    }[param]
    value = data.draw(
        st.one_of(st.sampled_from([other_site, 10**6, 0, -1, 2**63]), st.integers()),
        label=param,
    )
    answer = client.get(path, {param: value})
    expected = [row for row in visible if row[field] == value]
    assert rows(answer) == expected, (value, answer.content)
    if value == other_site:
        assert expected == [] and role != "admin"


# An id in a request body: (path, role, body(world, id), the other property's object).
BODIES = {
    "amenities.property": (
        "/api/v1/amenities/",
        "manager",
        lambda w, v: {"property": v, "name": "Gym", "kind": "gym"},
        lambda w: w.b.property,
    ),
    "reservations.amenity": (
        "/api/v1/reservations/",
        "resident",
        lambda w, v: {**booking(w.a), "amenity": v},
        lambda w: Amenity.objects.create(property=w.b.property, name="Gym", kind="gym"),
    ),
    "units.property": (
        "/api/v1/units/",
        "manager",
        lambda w, v: {"property": v, "code": "Z-1"},
        lambda w: w.b.property,
    ),
    "assets.property": (
        "/api/v1/assets/",
        "maintenance",
        lambda w, v: {"property": v, "name": "Lift", "category": "lift"},
        lambda w: w.b.property,
    ),
    "walk_in.unit": (
        "/api/v1/visitors/walk-in/",
        "security",
        lambda w, v: {"unit": v, "name": "Courier"},
        lambda w: w.b.unit,
    ),
    "walk_in.host": (
        "/api/v1/visitors/walk-in/",
        "security",
        lambda w, v: {"unit": w.a.unit.pk, "name": "Courier", "host": v},
        lambda w: w.b.resident,
    ),
    "repairs.unit": (
        "/api/v1/repairs/",
        "resident",
        lambda w, v: {"category": "pest", "description": "x", "unit": v},
        lambda w: w.b.unit,
    ),
    "complaints.unit": (
        "/api/v1/complaints/",
        "resident",
        lambda w, v: {"category": "noise", "subject": "s", "description": "d", "unit": v},
        lambda w: w.b.unit,
    ),
    "parcels.unit": (
        "/api/v1/parcels/",
        "security",
        lambda w, v: {"unit": v, "carrier": "ups", "tracking_numbers": ["T1"]},
        lambda w: w.b.unit,
    ),
    "parcels.resident": (
        "/api/v1/parcels/",
        "security",
        lambda w, v: {
            "unit": w.a.unit.pk,
            "carrier": "ups",
            "tracking_numbers": ["T1"],
            "resident": v,
        },
        lambda w: w.b.resident,
    ),
    "invitations.unit": (
        "/api/v1/invitations/",
        "manager",
        lambda w, v: {"unit": v, "email": "i@example.com"},
        lambda w: w.b.unit,
    ),
    "announcements.properties": (
        "/api/v1/announcements/",
        "manager",
        lambda w, v: {"properties": [v], "title": "t", "body": "b"},
        lambda w: w.b.property,
    ),
    "announcements.units": (
        "/api/v1/announcements/",
        "manager",
        lambda w, v: {"properties": [w.a.property.pk], "units": [v], "title": "t", "body": "b"},
        lambda w: w.b.unit,
    ),
}


@pytest.mark.parametrize("case", list(BODIES))
def test_an_id_in_a_body_is_refused_alike_whether_it_exists_or_not(world, api, case):
    path, role, body, other = BODIES[case]
    client = api(world.user(role))

    def refusal(value):
        answer = client.post(path, body(world, value), format="json")
        assert answer.status_code == 400, answer.content
        return answer.content.decode().replace(str(value), "<id>")

    assert refusal(other(world).pk) == refusal(10**6)
