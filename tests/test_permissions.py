"""Permission matrix for the domain APIs: properties, assets, visitors, repairs, complaints.

Every endpoint × every role × (an object of the user's own property, an object of another
property). The user of each role belongs to property A (admins to none); "own" objects
belong to property A's resident, "other" objects to property B's.

Expected values: an HTTP status, or "in"/"out" for list endpoints (200, and the object is
/ is not among the results).
"""

import pytest

from tests.factories import (
    ROLES,
    AssetFactory,
    ComplaintFactory,
    RepairRequestFactory,
    VisitorFactory,
)

pytestmark = pytest.mark.django_db


def repair(site, status="submitted"):
    return RepairRequestFactory(site=site, status=status)


def complaint(site, status="open"):
    return ComplaintFactory(site=site, status=status)


def visitor(site):
    return VisitorFactory(site=site)


def asset(site):
    return AssetFactory(site=site)


def own_property(site):
    return site.property


R, C = "/api/v1/repairs/", "/api/v1/complaints/"
V, A, P = "/api/v1/visitors/", "/api/v1/assets/", "/api/v1/properties/"

# endpoint -> (make the object at a site, method, url for the object, body)
ENDPOINTS = {
    "properties.list": (own_property, "get", lambda o: P, None),
    "properties.retrieve": (own_property, "get", lambda o: f"{P}{o.pk}/", None),
    "assets.list": (asset, "get", lambda o: A, None),
    "assets.retrieve": (asset, "get", lambda o: f"{A}{o.pk}/", None),
    "assets.retire": (asset, "post", lambda o: f"{A}{o.pk}/retire/", None),
    "visitors.list": (visitor, "get", lambda o: V, None),
    "visitors.retrieve": (visitor, "get", lambda o: f"{V}{o.pk}/", None),
    "visitors.check_in": (visitor, "post", lambda o: f"{V}{o.pk}/check-in/", None),
    "visitors.walk_in": (None, "post", lambda o: f"{V}walk-in/",
                         lambda site: {"unit": site.unit.pk, "name": "Courier"}),
    "repairs.list": (repair, "get", lambda o: R, None),
    "repairs.create": (None, "post", lambda o: R,
                       lambda site: {"category": "pest", "description": "x", "unit": site.unit.pk}),
    "repairs.retrieve": (repair, "get", lambda o: f"{R}{o.pk}/", None),
    "repairs.history": (repair, "get", lambda o: f"{R}{o.pk}/history/", None),
    "repairs.transition.acknowledge": (repair, "post", lambda o: f"{R}{o.pk}/transition/",
                                       lambda site: {"status": "acknowledged"}),
    "repairs.transition.cancel": (repair, "post", lambda o: f"{R}{o.pk}/transition/",
                                  lambda site: {"status": "cancelled"}),
    "repairs.transition.close": (lambda s: repair(s, "resolved"), "post",
                                 lambda o: f"{R}{o.pk}/transition/",
                                 lambda site: {"status": "closed"}),
    "complaints.list": (complaint, "get", lambda o: C, None),
    "complaints.create": (None, "post", lambda o: C,
                          lambda site: {"category": "noise", "subject": "s", "description": "d",
                                        "unit": site.unit.pk}),
    "complaints.retrieve": (complaint, "get", lambda o: f"{C}{o.pk}/", None),
    "complaints.comments.list": (complaint, "get", lambda o: f"{C}{o.pk}/comments/", None),
    "complaints.comments.create": (complaint, "post", lambda o: f"{C}{o.pk}/comments/",
                                   lambda site: {"body": "hello"}),
    "complaints.transition": (complaint, "post", lambda o: f"{C}{o.pk}/transition/",
                              lambda site: {"status": "in_review"}),
    "complaints.rate": (lambda s: complaint(s, "resolved"), "post",
                        lambda o: f"{C}{o.pk}/rate/", lambda site: {"rating": 5}),
}  # fmt: skip

# role -> endpoint -> (own property's object, other property's object)
# columns:   resident     maintenance  security     customer_s.  manager      admin
EXPECTED = {
    "properties.list":                [("in", "out"), ("in", "out"), ("in", "out"), ("in", "out"),
                                       ("in", "out"), ("in", "in")],
    "properties.retrieve":            [(200, 404), (200, 404), (200, 404), (200, 404),
                                       (200, 404), (200, 200)],
    "assets.list":                    [(403, 403), ("in", "out"), (403, 403), (403, 403),
                                       ("in", "out"), ("in", "in")],
    "assets.retrieve":                [(403, 403), (200, 404), (403, 403), (403, 403),
                                       (200, 404), (200, 200)],
    "assets.retire":                  [(403, 403), (200, 404), (403, 403), (403, 403),
                                       (200, 404), (200, 200)],
    "visitors.list":                  [("in", "out"), (403, 403), ("in", "out"), (403, 403),
                                       ("in", "out"), ("in", "in")],
    "visitors.retrieve":              [(200, 404), (403, 403), (200, 404), (403, 403),
                                       (200, 404), (200, 200)],
    "visitors.check_in":              [(403, 403), (403, 403), (200, 404), (403, 403),
                                       (200, 404), (200, 200)],
    "visitors.walk_in":               [(403, 403), (403, 403), (201, 400), (403, 403),
                                       (201, 400), (201, 201)],
    "repairs.list":                   [("in", "out"), ("in", "out"), (403, 403), (403, 403),
                                       ("in", "out"), ("in", "in")],
    "repairs.create":                 [(201, 400), (403, 403), (403, 403), (403, 403),
                                       (403, 403), (403, 403)],
    "repairs.retrieve":               [(200, 404), (200, 404), (403, 403), (403, 403),
                                       (200, 404), (200, 200)],
    "repairs.history":                [(200, 404), (200, 404), (403, 403), (403, 403),
                                       (200, 404), (200, 200)],
    "repairs.transition.acknowledge": [(403, 403), (200, 404), (403, 403), (403, 403),
                                       (200, 404), (200, 200)],
    "repairs.transition.cancel":      [(200, 404), (403, 403), (403, 403), (403, 403),
                                       (403, 403), (403, 403)],
    "repairs.transition.close":       [(200, 404), (200, 404), (403, 403), (403, 403),
                                       (200, 404), (200, 200)],
    "complaints.list":                [("in", "out"), (403, 403), (403, 403), ("in", "out"),
                                       ("in", "out"), ("in", "in")],
    "complaints.create":              [(201, 400), (403, 403), (403, 403), (403, 403),
                                       (403, 403), (403, 403)],
    "complaints.retrieve":            [(200, 404), (403, 403), (403, 403), (200, 404),
                                       (200, 404), (200, 200)],
    "complaints.comments.list":       [(200, 404), (403, 403), (403, 403), (200, 404),
                                       (200, 404), (200, 200)],
    "complaints.comments.create":     [(201, 404), (403, 403), (403, 403), (201, 404),
                                       (201, 404), (201, 201)],
    "complaints.transition":          [(403, 403), (403, 403), (403, 403), (200, 404),
                                       (200, 404), (200, 200)],
    "complaints.rate":                [(200, 404), (403, 403), (403, 403), (403, 403),
                                       (403, 403), (403, 403)],
}  # fmt: skip

CASES = [
    pytest.param(endpoint, role, which, EXPECTED[endpoint][i][j], id=f"{endpoint}-{role}-{which}")
    for endpoint in ENDPOINTS
    for i, role in enumerate(ROLES)
    for j, which in enumerate(("own", "other"))
]


def test_matrix_covers_every_endpoint():
    assert set(EXPECTED) == set(ENDPOINTS)
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


@pytest.mark.parametrize(("endpoint", "role", "which", "expected"), CASES)
def test_permission_matrix(world, api, endpoint, role, which, expected):
    make, method, url, body = ENDPOINTS[endpoint]
    site = world.a if which == "own" else world.b
    obj = make(site) if make else None
    user = world.user(role)
    data = body(site) if body else None
    response = getattr(api(user), method)(url(obj), data, format="json" if data else None)
    if expected in ("in", "out"):
        assert response.status_code == 200, response.data
        ids = {row["id"] for row in response.data["results"]}
        assert (obj.pk in ids) == (expected == "in")
    else:
        assert response.status_code == expected, getattr(response, "data", None)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_anonymous_is_401(world, api, endpoint):
    make, method, url, body = ENDPOINTS[endpoint]
    obj = make(world.a) if make else None
    response = getattr(api(), method)(url(obj), body(world.a) if body else None, format="json")
    assert response.status_code == 401
