"""Permission matrix for accounts, properties, units, assets and visitors.

Every endpoint × every role × (an object of the user's own property, an object of another
property). Each role's user belongs to property A (the resident lives in A's unit; admins
belong to none). Expected values: an HTTP status, or "in"/"out" for list endpoints (200,
and the object is / is not among the results). A final test derives the endpoints from
the OpenAPI schema, so an endpoint added without a row here fails.
"""

import datetime
import itertools

import pytest
from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.factories import ROLES, AssetFactory, VisitorFactory

pytestmark = pytest.mark.django_db

STAFF = ["maintenance", "security", "customer_service", "manager"]
_n = itertools.count(1)


@pytest.fixture
def world(world):
    """The shared world (tests/conftest.py) as (sites, users by role at site A)."""
    cache.clear()  # the auth endpoints are throttled
    yield {"a": world.a, "b": world.b}, {role: world.user(role) for role in ROLES}
    cache.clear()


# --- objects at a site ----------------------------------------------------------------
def visitor(site):
    return VisitorFactory(site=site)


def arrived_visitor(site):
    return VisitorFactory(site=site, status="arrived", arrived_at=timezone.now())


def asset(site):
    return AssetFactory(site=site)


def prop(site):
    return site.property


def unit(site):
    return site.unit


def nothing(site):
    return None


# endpoint -> (schema method, schema path, make object, url(obj), body(site) or None)
AUTH, P, U = "/api/v1/auth/", "/api/v1/properties/", "/api/v1/units/"
A, V = "/api/v1/assets/", "/api/v1/visitors/"
ENDPOINTS = {
    "auth.register": ("post", f"{AUTH}register/", nothing, lambda o: f"{AUTH}register/",
                      lambda s: {"email": f"new{next(_n)}@example.com", "unit_code": s.unit.code,
                                 "password": "a-long-unusual-passphrase-42", "name": "N N"}),
    "auth.confirm": ("post", f"{AUTH}confirm/", nothing, lambda o: f"{AUTH}confirm/",
                     lambda s: {"token": "not-a-token"}),
    "auth.token": ("post", f"{AUTH}token/", nothing, lambda o: f"{AUTH}token/",
                   lambda s: {"username": s.resident.username, "password": "wrong"}),
    "auth.me": ("get", f"{AUTH}me/", nothing, lambda o: f"{AUTH}me/", None),
    "properties.list": ("get", P, prop, lambda o: P, None),
    "properties.create": ("post", P, nothing, lambda o: P,
                          lambda s: {"name": "New", "code": f"new{next(_n)}"}),
    "properties.retrieve": ("get", P + "{id}/", prop, lambda o: f"{P}{o.pk}/", None),
    "properties.update": ("put", P + "{id}/", prop, lambda o: f"{P}{o.pk}/",
                          lambda s: {"name": "Renamed", "code": s.property.code}),
    "properties.partial_update": ("patch", P + "{id}/", prop, lambda o: f"{P}{o.pk}/",
                                  lambda s: {"address": "1 Road"}),
    "units.list": ("get", U, unit, lambda o: U, None),
    "units.create": ("post", U, nothing, lambda o: U,
                     lambda s: {"property": s.property.pk, "code": f"N-{next(_n)}"}),
    "units.retrieve": ("get", U + "{id}/", unit, lambda o: f"{U}{o.pk}/", None),
    "units.update": ("put", U + "{id}/", unit, lambda o: f"{U}{o.pk}/",
                     lambda s: {"property": s.property.pk, "code": s.unit.code, "floor": "3"}),
    "units.partial_update": ("patch", U + "{id}/", unit, lambda o: f"{U}{o.pk}/",
                             lambda s: {"floor": "2"}),
    "assets.list": ("get", A, asset, lambda o: A, None),
    "assets.create": ("post", A, nothing, lambda o: A,
                      lambda s: {"property": s.property.pk, "name": "Lift", "category": "lift"}),
    "assets.retrieve": ("get", A + "{id}/", asset, lambda o: f"{A}{o.pk}/", None),
    "assets.update": ("put", A + "{id}/", asset, lambda o: f"{A}{o.pk}/",
                      lambda s: {"property": s.property.pk, "name": "Lift", "category": "lift"}),
    "assets.partial_update": ("patch", A + "{id}/", asset, lambda o: f"{A}{o.pk}/",
                              lambda s: {"condition": "poor"}),
    "assets.retire": ("post", A + "{id}/retire/", asset, lambda o: f"{A}{o.pk}/retire/", None),
    "visitors.list": ("get", V, visitor, lambda o: V, None),
    "visitors.create": ("post", V, nothing, lambda o: V,
                        lambda s: {"name": "Ada", "expected_arrival":
                                   (timezone.now() + datetime.timedelta(hours=2)).isoformat()}),
    "visitors.retrieve": ("get", V + "{id}/", visitor, lambda o: f"{V}{o.pk}/", None),
    "visitors.check_in": ("post", V + "{id}/check-in/", visitor,
                          lambda o: f"{V}{o.pk}/check-in/", None),
    "visitors.check_out": ("post", V + "{id}/check-out/", arrived_visitor,
                           lambda o: f"{V}{o.pk}/check-out/", None),
    "visitors.cancel": ("post", V + "{id}/cancel/", visitor, lambda o: f"{V}{o.pk}/cancel/", None),
    "visitors.walk_in": ("post", V + "walk-in/", nothing, lambda o: f"{V}walk-in/",
                         lambda s: {"unit": s.unit.pk, "name": "Courier"}),
}  # fmt: skip

ANONYMOUS_OK = {"auth.register": 202, "auth.confirm": 400, "auth.token": 400}

F = (403, 403)  # a role that may never do it
EVERYONE = [(200, 200)] * 6
# columns:               resident      maintenance   security      customer_s.   manager       admin
EXPECTED = {
    "auth.register":            [(202, 202)] * 6,  # the same for anybody (no auth used)
    "auth.confirm":             [(400, 400)] * 6,
    "auth.token":               [(400, 400)] * 6,
    "auth.me":                  EVERYONE,
    "properties.list":          [("in", "out")] * 5 + [("in", "in")],
    "properties.create":        [F, F, F, F, (201, 201), (201, 201)],
    "properties.retrieve":      [(200, 404)] * 5 + [(200, 200)],
    "properties.update":        [F, F, F, F, (200, 404), (200, 200)],
    "properties.partial_update": [F, F, F, F, (200, 404), (200, 200)],
    "units.list":               [("in", "out")] * 5 + [("in", "in")],
    "units.create":             [F, F, F, F, (201, 400), (201, 201)],
    "units.retrieve":           [(200, 404)] * 5 + [(200, 200)],
    "units.update":             [F, F, F, F, (200, 404), (200, 200)],
    "units.partial_update":     [F, F, F, F, (200, 404), (200, 200)],
    "assets.list":              [F, ("in", "out"), F, F, ("in", "out"), ("in", "in")],
    "assets.create":            [F, (201, 400), F, F, (201, 400), (201, 201)],
    "assets.retrieve":          [F, (200, 404), F, F, (200, 404), (200, 200)],
    "assets.update":            [F, (200, 404), F, F, (200, 404), (200, 200)],
    "assets.partial_update":    [F, (200, 404), F, F, (200, 404), (200, 200)],
    "assets.retire":            [F, (200, 404), F, F, (200, 404), (200, 200)],
    "visitors.list":            [("in", "out"), F, ("in", "out"), F, ("in", "out"), ("in", "in")],
    "visitors.create":          [(201, 201), F, F, F, F, F],
    "visitors.retrieve":        [(200, 404), F, (200, 404), F, (200, 404), (200, 200)],
    "visitors.check_in":        [F, F, (200, 404), F, (200, 404), (200, 200)],
    "visitors.check_out":       [F, F, (200, 404), F, (200, 404), (200, 200)],
    "visitors.cancel":          [(200, 404), F, (200, 404), F, (200, 404), (200, 200)],
    "visitors.walk_in":         [F, F, (201, 400), F, (201, 400), (201, 201)],
}  # fmt: skip

CASES = [
    pytest.param(endpoint, role, which, EXPECTED[endpoint][i][j], id=f"{endpoint}-{role}-{which}")
    for endpoint in ENDPOINTS
    for i, role in enumerate(ROLES)
    for j, which in enumerate(("own", "other"))
]


def test_matrix_is_complete():
    assert set(EXPECTED) == set(ENDPOINTS)
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


@pytest.mark.parametrize(("endpoint", "role", "which", "expected"), CASES)
def test_permission_matrix(api, world, endpoint, role, which, expected):
    sites, users = world
    method, _, make, url, body = ENDPOINTS[endpoint]
    site = sites["a" if which == "own" else "b"]
    obj = make(site)
    data = body(site) if body else None
    client = api(users[role])
    response = getattr(client, method)(url(obj), data, format="json" if data else None)
    if expected in ("in", "out"):
        assert response.status_code == 200, response.content
        found = {row["id"] for row in response.json()["results"]}
        assert (obj.pk in found) == (expected == "in")
    else:
        assert response.status_code == expected, response.content


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_anonymous(world, endpoint):
    sites, _ = world
    method, _, make, url, body = ENDPOINTS[endpoint]
    obj = make(sites["a"])
    response = getattr(APIClient(), method)(
        url(obj), body(sites["a"]) if body else None, format="json"
    )
    assert response.status_code == ANONYMOUS_OK.get(endpoint, 401), response.content


def test_every_endpoint_of_these_apps_is_in_the_matrix():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    prefixes = (AUTH, P, U, A, V)
    served = {
        (method, path)
        for path, operations in schema["paths"].items()
        if path.startswith(prefixes)
        for method in operations
    }
    covered = {(method, path) for method, path, *_ in ENDPOINTS.values()}
    assert served == covered
