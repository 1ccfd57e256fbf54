# ruff: noqa: E501  (the permission table reads best one row per line)
"""The permission matrix: every API endpoint × every role × (an object of the user's own
property, an object of another property), and anonymous callers.

Each role's user belongs to property A (the resident lives in A's unit; admins belong to
none); "own" objects belong to property A, "other" objects to property B. Expected values:
an HTTP status, or "in"/"out" for list endpoints (200, and the object is / is not among the
results). The last test derives the endpoints from the OpenAPI schema, so an endpoint
added without a row here fails: a new app (e.g. announcements) adds its rows to ENDPOINTS
and EXPECTED (and to ANONYMOUS_OK if anonymous callers are not simply 401).
"""

import datetime
import itertools
import zoneinfo

import pytest
from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from apps.amenities.models import Reservation
from tests.amenities.helpers import amenity as amenity_at
from tests.amenities.helpers import days_ahead
from tests.amenities.helpers import local as amenity_local
from tests.announcements.helpers import draft as announcement_draft
from tests.announcements.helpers import sent as announcement_sent
from tests.factories import (
    ROLES,
    AssetFactory,
    ComplaintFactory,
    DailyPropertyStatFactory,
    InvitationFactory,
    NotificationFactory,
    ParcelFactory,
    RepairRequestFactory,
    ResidencyFactory,
    VisitorFactory,
)

pytestmark = pytest.mark.django_db

_n = itertools.count(1)


@pytest.fixture
def world(world):
    """The shared world (tests/conftest.py) as (sites, users by role at site A)."""
    cache.clear()  # the auth endpoints are throttled
    yield {"a": world.a, "b": world.b}, {role: world.user(role) for role in ROLES}
    cache.clear()


# --- objects at a site ----------------------------------------------------------------
def nothing(site):
    return None


def prop(site):
    return site.property


def unit(site):
    return site.unit


def asset(site):
    return AssetFactory(site=site)


def visitor(site):
    return VisitorFactory(site=site)


def arrived_visitor(site):
    return VisitorFactory(site=site, status="arrived", arrived_at=timezone.now())


def repair(site, status="submitted"):
    return RepairRequestFactory(site=site, status=status)


def complaint(site, status="open"):
    return ComplaintFactory(site=site, status=status)


def parcel(site):
    return ParcelFactory(site=site)


def notification(site):
    """An in-app notification for the site's resident."""
    return NotificationFactory(user=site.resident, status="sent")


def daily_stat(site):
    """A report row of the site's property (the report lists it by property id)."""
    DailyPropertyStatFactory(property_id=site.property.pk)
    return site.property


def invitation(site):
    return InvitationFactory(unit=site.unit)


def claim(site):
    """A pending residency: someone registered with the site's unit code."""
    return ResidencyFactory(unit=site.unit, start_date=timezone.localdate(), status="pending")


def move_out(site):
    """The site's resident asks to move out in a week."""
    from apps.properties.services import move_out_request

    return move_out_request(
        resident=site.resident, end_date=timezone.localdate() + datetime.timedelta(days=7)
    )


def move_out_body(site):
    residency = site.resident.residencies.get()
    return {"end_date": str(timezone.localdate()), "residency": residency.pk}


def amenity(site):
    return amenity_at(site.property)


def reservation(site, status="confirmed"):
    room = amenity_at(site.property)
    zone = zoneinfo.ZoneInfo(site.property.time_zone)
    starts = amenity_local(days_ahead(3), 10, zone=zone)
    return Reservation.objects.create(
        amenity=room,
        property=site.property,
        unit=site.unit,
        resident=site.resident,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=1),
        exclusive=True,
        status=status,
    )


def booking(site):
    """A booking of a new amenity at the site, tomorrow 10:00 in the property's zone."""
    zone = zoneinfo.ZoneInfo(site.property.time_zone)
    starts = amenity_local(days_ahead(3), 10, zone=zone)
    return {
        "amenity": amenity_at(site.property).pk,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + datetime.timedelta(hours=1)).isoformat(),
    }


def in_an_hour():
    return (timezone.now() + datetime.timedelta(hours=1)).isoformat()


# The matrix's three tables (ENDPOINTS, ANONYMOUS_OK, EXPECTED) are read as tables, a row
# an endpoint and a column a role: `# fmt: skip` on their closing braces keeps the rows
# as written (ruff format would fold every row over several lines).
# endpoint -> (schema method, schema path, make object, url(obj), body(site) or None)
AUTH, P, U = "/api/v1/auth/", "/api/v1/properties/", "/api/v1/units/"
A, V, R, C = "/api/v1/assets/", "/api/v1/visitors/", "/api/v1/repairs/", "/api/v1/complaints/"
N, REP, DL = "/api/v1/notifications/", "/api/v1/reports/", "/api/v1/ops/dead-letters/"
INV, RES, MO = "/api/v1/invitations/", "/api/v1/residencies/", "/api/v1/move-outs/"
AN, PA = "/api/v1/announcements/", "/api/v1/parcels/"
AM, RV = "/api/v1/amenities/", "/api/v1/reservations/"
ENDPOINTS = {
    # amenities and reservations
    "amenities.list": ("get", AM, amenity, lambda o: AM, None),
    "amenities.create": ("post", AM, nothing, lambda o: AM,
                         lambda s: {"property": s.property.pk, "name": "Gym", "kind": "gym"}),
    "amenities.retrieve": ("get", AM + "{id}/", amenity, lambda o: f"{AM}{o.pk}/", None),
    "amenities.update": ("put", AM + "{id}/", amenity, lambda o: f"{AM}{o.pk}/",
                         lambda s: {"name": "Gym", "kind": "gym"}),
    "amenities.partial_update": ("patch", AM + "{id}/", amenity, lambda o: f"{AM}{o.pk}/",
                                 lambda s: {"capacity": 3}),
    "amenities.slots": ("get", AM + "{id}/slots/", amenity,
                        lambda o: f"{AM}{o.pk}/slots/?date={days_ahead(2)}", None),
    "amenities.closures": ("get", AM + "{id}/closures/", amenity,
                           lambda o: f"{AM}{o.pk}/closures/", None),
    "amenities.closure_announce": ("post", AM + "{id}/closures/", amenity,
                                   lambda o: f"{AM}{o.pk}/closures/",
                                   lambda s: {"starts_on": str(days_ahead(30)),
                                              "ends_on": str(days_ahead(31)), "reason": "Paint"}),
    "reservations.list": ("get", RV, reservation, lambda o: RV, None),
    "reservations.create": ("post", RV, nothing, lambda o: RV, booking),
    "reservations.retrieve": ("get", RV + "{id}/", reservation, lambda o: f"{RV}{o.pk}/", None),
    "reservations.history": ("get", RV + "{id}/history/", reservation,
                             lambda o: f"{RV}{o.pk}/history/", None),
    "reservations.transition.cancel": ("post", RV + "{id}/transition/", reservation,
                                       lambda o: f"{RV}{o.pk}/transition/",
                                       lambda s: {"status": "cancelled"}),
    "reservations.transition.approve": ("post", RV + "{id}/transition/",
                                        lambda s: reservation(s, "requested"),
                                        lambda o: f"{RV}{o.pk}/transition/",
                                        lambda s: {"status": "approved"}),
    # accounts and registration
    "auth.register": ("post", f"{AUTH}register/", nothing, lambda o: f"{AUTH}register/",
                      lambda s: {"email": f"new{next(_n)}@example.com", "unit_code": s.unit.code,
                                 "password": "a-long-unusual-passphrase-42", "name": "N N"}),
    "auth.register.unknown_code": ("post", f"{AUTH}register/", nothing,
                                   lambda o: f"{AUTH}register/",
                                   lambda s: {"email": f"new{next(_n)}@example.com",
                                              "unit_code": "NO-SUCH-UNIT", "name": "N N",
                                              "password": "a-long-unusual-passphrase-42"}),
    "auth.confirm": ("post", f"{AUTH}confirm/", nothing, lambda o: f"{AUTH}confirm/",
                     lambda s: {"token": "not-a-token"}),
    "auth.token": ("post", f"{AUTH}token/", nothing, lambda o: f"{AUTH}token/",
                   lambda s: {"username": s.resident.username, "password": "wrong"}),
    "auth.me": ("get", f"{AUTH}me/", nothing, lambda o: f"{AUTH}me/", None),
    "auth.logout": ("post", f"{AUTH}logout/", nothing, lambda o: f"{AUTH}logout/", None),
    "auth.logout_all": ("post", f"{AUTH}logout-all/", nothing, lambda o: f"{AUTH}logout-all/",
                        None),
    "auth.password_change": ("post", f"{AUTH}password/change/", nothing,
                             lambda o: f"{AUTH}password/change/",
                             lambda s: {"old_password": "wrong", "new_password": "x"}),
    "auth.password_reset": ("post", f"{AUTH}password/reset/", nothing,
                            lambda o: f"{AUTH}password/reset/",
                            lambda s: {"email": s.resident.email}),
    "auth.password_reset_confirm": ("post", f"{AUTH}password/reset/confirm/", nothing,
                                    lambda o: f"{AUTH}password/reset/confirm/",
                                    lambda s: {"uid": "MQ", "token": "x", "new_password": "x"}),
    "auth.invitation_accept": ("post", f"{AUTH}invitations/accept/", nothing,
                               lambda o: f"{AUTH}invitations/accept/",
                               lambda s: {"token": "not-a-token"}),
    # invitations and residency approvals
    "invitations.list": ("get", INV, invitation, lambda o: INV, None),
    "invitations.create": ("post", INV, nothing, lambda o: INV,
                           lambda s: {"unit": s.unit.pk, "email": f"i{next(_n)}@example.com"}),
    "invitations.retrieve": ("get", INV + "{id}/", invitation, lambda o: f"{INV}{o.pk}/", None),
    "invitations.revoke": ("post", INV + "{id}/revoke/", invitation,
                           lambda o: f"{INV}{o.pk}/revoke/", None),
    "residencies.list": ("get", RES, claim, lambda o: RES, None),
    "residencies.retrieve": ("get", RES + "{id}/", claim, lambda o: f"{RES}{o.pk}/", None),
    "residencies.approve": ("post", RES + "{id}/approve/", claim,
                            lambda o: f"{RES}{o.pk}/approve/", None),
    "residencies.reject": ("post", RES + "{id}/reject/", claim,
                           lambda o: f"{RES}{o.pk}/reject/", None),
    # move-out requests: residents ask, managers of the property decide
    "move_outs.list": ("get", MO, move_out, lambda o: MO, None),
    "move_outs.create": ("post", MO, nothing, lambda o: MO, move_out_body),
    "move_outs.retrieve": ("get", MO + "{id}/", move_out, lambda o: f"{MO}{o.pk}/", None),
    "move_outs.history": ("get", MO + "{id}/history/", move_out, lambda o: f"{MO}{o.pk}/history/", None),
    "move_outs.transition.withdraw": ("post", MO + "{id}/transition/", move_out,
                                      lambda o: f"{MO}{o.pk}/transition/",
                                      lambda s: {"status": "withdrawn"}),
    "move_outs.transition.approve": ("post", MO + "{id}/transition/", move_out,
                                     lambda o: f"{MO}{o.pk}/transition/",
                                     lambda s: {"status": "approved"}),
    # properties and units
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
    # assets
    "assets.list": ("get", A, asset, lambda o: A, None),
    "assets.create": ("post", A, nothing, lambda o: A,
                      lambda s: {"property": s.property.pk, "name": "Lift", "category": "lift"}),
    "assets.retrieve": ("get", A + "{id}/", asset, lambda o: f"{A}{o.pk}/", None),
    "assets.update": ("put", A + "{id}/", asset, lambda o: f"{A}{o.pk}/",
                      lambda s: {"property": s.property.pk, "name": "Lift", "category": "lift"}),
    "assets.partial_update": ("patch", A + "{id}/", asset, lambda o: f"{A}{o.pk}/",
                              lambda s: {"condition": "poor"}),
    "assets.retire": ("post", A + "{id}/retire/", asset, lambda o: f"{A}{o.pk}/retire/", None),
    # visitors
    "visitors.list": ("get", V, visitor, lambda o: V, None),
    "visitors.create": ("post", V, nothing, lambda o: V,
                        lambda s: {"name": "Ada", "expected_arrival": in_an_hour()}),
    "visitors.retrieve": ("get", V + "{id}/", visitor, lambda o: f"{V}{o.pk}/", None),
    "visitors.check_in": ("post", V + "{id}/check-in/", visitor,
                          lambda o: f"{V}{o.pk}/check-in/", None),
    "visitors.check_out": ("post", V + "{id}/check-out/", arrived_visitor,
                           lambda o: f"{V}{o.pk}/check-out/", None),
    "visitors.cancel": ("post", V + "{id}/cancel/", visitor, lambda o: f"{V}{o.pk}/cancel/", None),
    "visitors.walk_in": ("post", V + "walk-in/", nothing, lambda o: f"{V}walk-in/",
                         lambda s: {"unit": s.unit.pk, "name": "Courier"}),
    # repairs
    "repairs.list": ("get", R, repair, lambda o: R, None),
    "repairs.create": ("post", R, nothing, lambda o: R,
                       lambda s: {"category": "pest", "description": "x", "unit": s.unit.pk}),
    "repairs.retrieve": ("get", R + "{id}/", repair, lambda o: f"{R}{o.pk}/", None),
    "repairs.history": ("get", R + "{id}/history/", repair, lambda o: f"{R}{o.pk}/history/", None),
    "repairs.transition.acknowledge": ("post", R + "{id}/transition/", repair,
                                       lambda o: f"{R}{o.pk}/transition/",
                                       lambda s: {"status": "acknowledged"}),
    "repairs.transition.cancel": ("post", R + "{id}/transition/", repair,
                                  lambda o: f"{R}{o.pk}/transition/",
                                  lambda s: {"status": "cancelled"}),
    "repairs.transition.close": ("post", R + "{id}/transition/", lambda s: repair(s, "resolved"),
                                 lambda o: f"{R}{o.pk}/transition/",
                                 lambda s: {"status": "closed"}),
    # complaints
    "complaints.list": ("get", C, complaint, lambda o: C, None),
    "complaints.create": ("post", C, nothing, lambda o: C,
                          lambda s: {"category": "noise", "subject": "s", "description": "d",
                                     "unit": s.unit.pk}),
    "complaints.retrieve": ("get", C + "{id}/", complaint, lambda o: f"{C}{o.pk}/", None),
    "complaints.comments.list": ("get", C + "{id}/comments/", complaint,
                                 lambda o: f"{C}{o.pk}/comments/", None),
    "complaints.comments.create": ("post", C + "{id}/comments/", complaint,
                                   lambda o: f"{C}{o.pk}/comments/", lambda s: {"body": "hello"}),
    "complaints.transition": ("post", C + "{id}/transition/", complaint,
                              lambda o: f"{C}{o.pk}/transition/",
                              lambda s: {"status": "in_review"}),
    "complaints.rate": ("post", C + "{id}/rate/", lambda s: complaint(s, "resolved"),
                        lambda o: f"{C}{o.pk}/rate/", lambda s: {"rating": 5}),
    # notifications: the inbox is the user's own; staff send to the users of their property
    "notifications.list": ("get", N, notification, lambda o: N, None),
    "notifications.read": ("post", N + "{id}/read/", notification,
                           lambda o: f"{N}{o.pk}/read/", None),
    "notifications.status": ("get", N + "{id}/status/", notification,
                             lambda o: f"{N}{o.pk}/status/", None),
    "notifications.resend": ("post", N + "{id}/resend/", notification,
                             lambda o: f"{N}{o.pk}/resend/", None),
    "notifications.send": ("post", N + "send/", nothing, lambda o: f"{N}send/",
                           lambda s: {"type": "in_app", "recipient": str(s.resident.pk),
                                      "content": "Water off at noon"}),
    "notifications.send.email": ("post", N + "send/", nothing, lambda o: f"{N}send/",
                                 lambda s: {"type": "email", "recipient": s.resident.email,
                                            "content": "Water off at noon"}),
    "notifications.send.external": ("post", N + "send/", nothing, lambda o: f"{N}send/",
                                    lambda s: {"type": "sms", "recipient": "+15550100",
                                               "content": "Water off at noon"}),
    "notifications.unread_count": ("get", N + "unread-count/", nothing,
                                   lambda o: f"{N}unread-count/", None),
    "notifications.preferences": ("get", N + "preferences/", nothing,
                                  lambda o: f"{N}preferences/", None),
    "notifications.preferences_update": ("put", N + "preferences/", nothing,
                                         lambda o: f"{N}preferences/", lambda s: []),
    # reports: managers of the property and admins
    "reports.daily": ("get", REP + "daily/", daily_stat, lambda o: f"{REP}daily/", None),
    "reports.repairs": ("get", REP + "repairs/", prop,
                        lambda o: f"{REP}repairs/?property={o.pk}", None),
    "reports.complaints": ("get", REP + "complaints/", prop,
                           lambda o: f"{REP}complaints/?property={o.pk}", None),
    "reports.visitors": ("get", REP + "visitors/", prop,
                         lambda o: f"{REP}visitors/?property={o.pk}", None),
    "reports.amenities": ("get", REP + "amenities/", prop,
                          lambda o: f"{REP}amenities/?property={o.pk}", None),
    "reports.parcels": ("get", REP + "parcels/", prop,
                        lambda o: f"{REP}parcels/?property={o.pk}", None),
    "reports.moves": ("get", REP + "moves/", prop,
                      lambda o: f"{REP}moves/?property={o.pk}", None),
    "reports.assets": ("get", REP + "assets/", prop,
                       lambda o: f"{REP}assets/?property={o.pk}", None),
    # announcements: managers of the property and admins; recipients read what was sent
    "announcements.list": ("get", AN, announcement_sent, lambda o: AN, None),
    "announcements.retrieve": ("get", AN + "{id}/", announcement_sent, lambda o: f"{AN}{o.pk}/", None),
    "announcements.create": ("post", AN, nothing, lambda o: AN,
                             lambda s: {"properties": [s.property.pk], "title": "t", "body": "b",
                                        "channels": ["email"]}),
    "announcements.preview": ("get", AN + "{id}/preview/", announcement_draft,
                              lambda o: f"{AN}{o.pk}/preview/", None),
    "announcements.schedule": ("post", AN + "{id}/schedule/", announcement_draft,
                               lambda o: f"{AN}{o.pk}/schedule/",
                               lambda s: {"send_at": in_an_hour()}),
    "announcements.send": ("post", AN + "{id}/send/", announcement_draft,
                           lambda o: f"{AN}{o.pk}/send/", None),
    "announcements.cancel": ("post", AN + "{id}/cancel/", announcement_draft,
                             lambda o: f"{AN}{o.pk}/cancel/", None),
    "announcements.read": ("post", AN + "{id}/read/", announcement_sent,
                           lambda o: f"{AN}{o.pk}/read/", None),
    "announcements.failures": ("get", AN + "{id}/failures/", announcement_sent,
                               lambda o: f"{AN}{o.pk}/failures/", None),
    # parcels: the desk (security) and managers log and hand over; residents read theirs
    "parcels.list": ("get", PA, parcel, lambda o: PA, None),
    "parcels.create": ("post", PA, nothing, lambda o: PA,
                       lambda s: {"unit": s.unit.pk, "carrier": "ups",
                                  "tracking_numbers": [f"T{next(_n)}"]}),
    "parcels.retrieve": ("get", PA + "{id}/", parcel, lambda o: f"{PA}{o.pk}/", None),
    "parcels.pick_up": ("post", PA + "{id}/pick-up/", parcel, lambda o: f"{PA}{o.pk}/pick-up/",
                        lambda s: {"code": "424242"}),
    "parcels.return": ("post", PA + "{id}/return/", parcel, lambda o: f"{PA}{o.pk}/return/",
                       lambda s: {"note": "refused"}),
    # dead letters: administrators only (no property: own and other are the same)
    "dead_letters.list": ("get", DL, nothing, lambda o: DL, None),
    "dead_letters.retrieve": ("get", DL + "{queue}/{message_id}/", nothing,
                              lambda o: f"{DL}repair_requests/no-such-id/", None),
    "dead_letters.replay": ("post", DL + "{queue}/replay/", nothing,
                            lambda o: f"{DL}repair_requests/replay/",
                            lambda s: {"message_id": "no-such-id"}),
    "dead_letters.purge": ("post", DL + "{queue}/purge/", nothing,
                           lambda o: f"{DL}repair_requests/purge/",
                           lambda s: {"message_id": "no-such-id"}),
}  # fmt: skip
BROKER_ENDPOINTS = {name for name in ENDPOINTS if name.startswith("dead_letters.")}

# What anonymous callers get where it is not 401.
ANONYMOUS_OK = {
    "auth.register": 202, "auth.register.unknown_code": 202, "auth.confirm": 400, "auth.token": 400, "auth.password_reset": 202,
    "auth.password_reset_confirm": 400,
}  # fmt: skip

F = (403, 403)  # a role that may never do it
EVERYONE = [(200, 200)] * 6
STAFF_ONLY_MANAGERS = [F, F, F, F]  # resident, maintenance, security, customer service
# columns:                       resident      maintenance   security      customer_s.   manager       admin
EXPECTED = {
    "auth.register":                [(202, 202)] * 6,  # the same for anybody (no auth used)
    "auth.register.unknown_code":   [(202, 202)] * 6,  # like a real code: no oracle
    "auth.confirm":                 [(400, 400)] * 6,
    "auth.token":                   [(400, 400)] * 6,
    "auth.me":                      EVERYONE,
    "auth.logout":                  [(204, 204)] * 6,
    "auth.logout_all":              [(204, 204)] * 6,
    "auth.password_change":         [(400, 400)] * 6,  # the old password is wrong
    "auth.password_reset":          [(202, 202)] * 6,
    "auth.password_reset_confirm":  [(400, 400)] * 6,
    "auth.invitation_accept":       [(400, 400)] * 6,  # a bad token, whoever asks
    "invitations.list":             [*STAFF_ONLY_MANAGERS, ("in", "out"), ("in", "in")],
    "invitations.create":           [*STAFF_ONLY_MANAGERS, (201, 400), (201, 201)],
    "invitations.retrieve":         [*STAFF_ONLY_MANAGERS, (200, 404), (200, 200)],
    "invitations.revoke":           [*STAFF_ONLY_MANAGERS, (200, 404), (200, 200)],
    "residencies.list":             [*STAFF_ONLY_MANAGERS, ("in", "out"), ("in", "in")],
    "residencies.retrieve":         [*STAFF_ONLY_MANAGERS, (200, 404), (200, 200)],
    "residencies.approve":          [*STAFF_ONLY_MANAGERS, (200, 404), (200, 200)],
    "residencies.reject":           [*STAFF_ONLY_MANAGERS, (200, 404), (200, 200)],
    "move_outs.list":               [("in", "out"), F, F, F, ("in", "out"), ("in", "in")],
    "move_outs.create":             [(201, 400), F, F, F, F, F],
    "move_outs.retrieve":           [(200, 404), F, F, F, (200, 404), (200, 200)],
    "move_outs.history":            [(200, 404), F, F, F, (200, 404), (200, 200)],
    "move_outs.transition.withdraw": [(200, 404), F, F, F, F, F],
    "move_outs.transition.approve": [F, F, F, F, (200, 404), (200, 200)],
    "properties.list":              [("in", "out")] * 5 + [("in", "in")],
    "properties.create":            [F, F, F, F, (201, 201), (201, 201)],
    "properties.retrieve":          [(200, 404)] * 5 + [(200, 200)],
    "properties.update":            [F, F, F, F, (200, 404), (200, 200)],
    "properties.partial_update":    [F, F, F, F, (200, 404), (200, 200)],
    "units.list":                   [("in", "out")] * 5 + [("in", "in")],
    "units.create":                 [F, F, F, F, (201, 400), (201, 201)],
    "units.retrieve":               [(200, 404)] * 5 + [(200, 200)],
    "units.update":                 [F, F, F, F, (200, 404), (200, 200)],
    "units.partial_update":         [F, F, F, F, (200, 404), (200, 200)],
    "assets.list":                  [F, ("in", "out"), F, F, ("in", "out"), ("in", "in")],
    "assets.create":                [F, (201, 400), F, F, (201, 400), (201, 201)],
    "assets.retrieve":              [F, (200, 404), F, F, (200, 404), (200, 200)],
    "assets.update":                [F, (200, 404), F, F, (200, 404), (200, 200)],
    "assets.partial_update":        [F, (200, 404), F, F, (200, 404), (200, 200)],
    "assets.retire":                [F, (200, 404), F, F, (200, 404), (200, 200)],
    "visitors.list":                [("in", "out"), F, ("in", "out"), F, ("in", "out"), ("in", "in")],
    "visitors.create":              [(201, 201), F, F, F, F, F],
    "visitors.retrieve":            [(200, 404), F, (200, 404), F, (200, 404), (200, 200)],
    "visitors.check_in":            [F, F, (200, 404), F, (200, 404), (200, 200)],
    "visitors.check_out":           [F, F, (200, 404), F, (200, 404), (200, 200)],
    "visitors.cancel":              [(200, 404), F, (200, 404), F, (200, 404), (200, 200)],
    "visitors.walk_in":             [F, F, (201, 400), F, (201, 400), (201, 201)],
    "repairs.list":                 [("in", "out"), ("in", "out"), F, F, ("in", "out"), ("in", "in")],
    "repairs.create":               [(201, 400), F, F, F, F, F],
    "repairs.retrieve":             [(200, 404), (200, 404), F, F, (200, 404), (200, 200)],
    "repairs.history":              [(200, 404), (200, 404), F, F, (200, 404), (200, 200)],
    "repairs.transition.acknowledge": [F, (200, 404), F, F, (200, 404), (200, 200)],
    "repairs.transition.cancel":    [(200, 404), F, F, F, F, F],
    "repairs.transition.close":     [(200, 404), (200, 404), F, F, (200, 404), (200, 200)],
    "complaints.list":              [("in", "out"), F, F, ("in", "out"), ("in", "out"), ("in", "in")],
    "complaints.create":            [(201, 400), F, F, F, F, F],
    "complaints.retrieve":          [(200, 404), F, F, (200, 404), (200, 404), (200, 200)],
    "complaints.comments.list":     [(200, 404), F, F, (200, 404), (200, 404), (200, 200)],
    "complaints.comments.create":   [(201, 404), F, F, (201, 404), (201, 404), (201, 201)],
    "complaints.transition":        [F, F, F, (200, 404), (200, 404), (200, 200)],
    "complaints.rate":              [(200, 404), F, F, F, F, F],
    "notifications.list":           [("in", "out")] + [("out", "out")] * 5,
    "notifications.read":           [(200, 404)] + [(404, 404)] * 5,
    "notifications.status":         [(200, 404)] + [(404, 404)] * 4 + [(200, 200)],
    "notifications.send":           [F] + [(202, 400)] * 4 + [(202, 202)],
    "notifications.send.email":     [F] + [(202, 400)] * 4 + [(202, 202)],
    "notifications.send.external":  [F] + [(400, 400)] * 5,  # no user's address: no relay
    "notifications.resend":         [F] * 5 + [(409, 409)],  # only an unknown one is resent
    "notifications.unread_count":   EVERYONE,
    "notifications.preferences":    EVERYONE,
    "notifications.preferences_update": EVERYONE,
    "reports.daily":                [*STAFF_ONLY_MANAGERS, ("in", "out"), ("in", "in")],
    "reports.repairs":              [*STAFF_ONLY_MANAGERS, (200, 200), (200, 200)],
    "reports.complaints":           [*STAFF_ONLY_MANAGERS, (200, 200), (200, 200)],
    "reports.visitors":             [*STAFF_ONLY_MANAGERS, (200, 200), (200, 200)],
    "reports.assets":               [*STAFF_ONLY_MANAGERS, (200, 200), (200, 200)],
    "reports.amenities":            [*STAFF_ONLY_MANAGERS, (200, 200), (200, 200)],
    "reports.parcels":              [*STAFF_ONLY_MANAGERS, (200, 200), (200, 200)],
    "reports.moves":                [*STAFF_ONLY_MANAGERS, (200, 200), (200, 200)],
    "announcements.list":           [("in", "out"), ("out", "out"), ("out", "out"), ("out", "out"), ("in", "out"), ("in", "in")],
    "announcements.retrieve":       [(200, 404), (404, 404), (404, 404), (404, 404), (200, 404), (200, 200)],
    "announcements.create":         [*STAFF_ONLY_MANAGERS, (201, 400), (201, 201)],
    "announcements.preview":        [*STAFF_ONLY_MANAGERS, (200, 404), (200, 200)],
    "announcements.schedule":       [*STAFF_ONLY_MANAGERS, (200, 404), (200, 200)],
    "announcements.send":           [*STAFF_ONLY_MANAGERS, (200, 404), (200, 200)],
    "announcements.cancel":         [*STAFF_ONLY_MANAGERS, (200, 404), (200, 200)],
    "announcements.read":           [(204, 404), (404, 404), (404, 404), (404, 404), (409, 404), (409, 409)],
    "announcements.failures":       [*STAFF_ONLY_MANAGERS, (200, 404), (200, 200)],
    "amenities.list":               [("in", "out"), F, F, F, ("in", "out"), ("in", "in")],
    "amenities.create":             [F, F, F, F, (201, 400), (201, 201)],
    "amenities.retrieve":           [(200, 404), F, F, F, (200, 404), (200, 200)],
    "amenities.update":             [F, F, F, F, (200, 404), (200, 200)],
    "amenities.partial_update":     [F, F, F, F, (200, 404), (200, 200)],
    "amenities.slots":              [(200, 404), F, F, F, (200, 404), (200, 200)],
    "amenities.closures":           [(200, 404), F, F, F, (200, 404), (200, 200)],
    "amenities.closure_announce":   [F, F, F, F, (201, 404), (201, 201)],
    "reservations.list":            [("in", "out"), F, F, F, ("in", "out"), ("in", "in")],
    "reservations.create":          [(201, 400), F, F, F, F, F],
    "reservations.retrieve":        [(200, 404), F, F, F, (200, 404), (200, 200)],
    "reservations.history":         [(200, 404), F, F, F, (200, 404), (200, 200)],
    "reservations.transition.cancel": [(200, 404), F, F, F, (200, 404), (200, 200)],
    "reservations.transition.approve": [F, F, F, F, (200, 404), (200, 200)],
    "parcels.list":                 [("in", "out"), F, ("in", "out"), F, ("in", "out"), ("in", "in")],
    "parcels.create":               [F, F, (201, 400), F, (201, 400), (201, 201)],
    "parcels.retrieve":             [(200, 404), F, (200, 404), F, (200, 404), (200, 200)],
    "parcels.pick_up":              [F, F, (200, 404), F, (200, 404), (200, 200)],
    "parcels.return":               [F, F, (200, 404), F, (200, 404), (200, 200)],
    "dead_letters.list":            [F] * 5 + [(200, 200)],
    "dead_letters.retrieve":        [F] * 5 + [(404, 404)],
    "dead_letters.replay":          [F] * 5 + [(404, 404)],
    "dead_letters.purge":           [F] * 5 + [(404, 404)],
}  # fmt: skip

CASES = [
    pytest.param(endpoint, role, which, EXPECTED[endpoint][i][j], id=f"{endpoint}-{role}-{which}")
    for endpoint in ENDPOINTS
    for i, role in enumerate(ROLES)
    for j, which in enumerate(("own", "other"))
]


def listed_ids(response):
    """Ids of a list answer's rows (report rows: their property)."""
    rows = response.json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    return {str(row.get("id", row.get("property_id"))) for row in rows}


def test_matrix_is_complete():
    assert set(EXPECTED) == set(ENDPOINTS)
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


@pytest.mark.parametrize(("endpoint", "role", "which", "expected"), CASES)
def test_permission_matrix(request, api, world, endpoint, role, which, expected):
    if endpoint in BROKER_ENDPOINTS:
        request.getfixturevalue("broker_vhost")
    sites, users = world
    method, _, make, url, body = ENDPOINTS[endpoint]
    site = sites["a" if which == "own" else "b"]
    obj = make(site)
    data = body(site) if body else None
    client = api(users[role])
    response = getattr(client, method)(url(obj), data, format="json" if body else None)
    if expected in ("in", "out"):
        assert response.status_code == 200, response.content
        assert (str(obj.pk) in listed_ids(response)) == (expected == "in")
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


def test_every_endpoint_of_the_api_is_in_the_matrix():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    served = {
        (method, path) for path, operations in schema["paths"].items() for method in operations
    }
    covered = {(method, path) for method, path, *_ in ENDPOINTS.values()}
    assert served == covered
