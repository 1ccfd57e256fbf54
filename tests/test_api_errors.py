"""Bad input gets a clear JSON error and changes nothing; the schema lists every answer.

Each case here was a 500, an HTML page or an undocumented status before (found by
schemathesis, tests/test_api_contract.py).
"""

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator

from apps.accounts.models import Role
from apps.core.api import exception_handler
from apps.core.errors import Conflict, LoginLocked
from apps.messaging.deadletters import BrokerUnavailable, DeadLetterError, DeadLetterUnroutableError
from apps.properties.models import Property, Unit
from apps.registration.services import ConfirmationError, InvitationError
from tests.factories import PropertyFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api):
    return api(UserFactory(role=Role.ADMIN))


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/properties/?created_at__gte=0772-06-02T08:02:12-16:01",
        "/api/v1/properties/?created_at__lte=9999-12-31T23:59:59-10:00",
        "/api/v1/properties/?created_at__gte=0001-01-01T00:00:00%2B10:00",
        "/api/v1/visitors/?expected_from=2026-01-01T00:00:00-23:59",
        "/api/v1/assets/?created_from=0001-01-01T00:00:00%2B01:00",
    ],
)
def test_datetime_filters_outside_postgresql_range_are_400_or_answered(admin, query):
    response = admin.get(query)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()  # field messages


def test_datetime_filter_offset_is_applied_not_dropped(admin):
    PropertyFactory(code="oak")
    # 16:01 behind UTC is still "after" a property created just now minus a day.
    assert (
        admin.get("/api/v1/properties/?created_at__gte=2000-01-01T00:00:00-16:01").json()["count"]
        == Property.objects.count()
    )


def test_preferences_answer_options_and_a_plain_list(api):
    client = api(UserFactory(unit=UnitFactory()))
    assert client.options("/api/v1/notifications/preferences/").status_code == 200
    body = client.get("/api/v1/notifications/preferences/").json()
    assert isinstance(body, list) and body
    schema = SchemaGenerator().get_schema(request=None, public=True)
    answer = schema["paths"]["/api/v1/notifications/preferences/"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["type"] == "array"


def test_a_body_over_the_limit_is_413_before_any_view(admin):
    with override_settings(REQUEST_MAX_BODY_BYTES=1000, DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = admin.post(
            "/api/v1/properties/", {"name": "x" * 2000, "code": "big"}, format="json"
        )
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert not Property.objects.filter(code="big").exists()


@pytest.mark.parametrize(
    "field, value",
    [("code", "OAK-1\x97"), ("code", "OAK\ue000"), ("code", "OAK 1"), ("floor", "2\x00")],
)
def test_unit_codes_and_floors_refuse_control_and_invisible_characters(admin, field, value):
    prop = PropertyFactory(code="oak")
    body = {"property": prop.id, "code": "OAK-9", "floor": "2", field: value}
    response = admin.post("/api/v1/units/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Unit.objects.exists()


def test_property_names_refuse_control_characters(admin):
    response = admin.post("/api/v1/properties/", {"name": "Oak\x97", "code": "oak"}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_a_path_matching_no_route_answers_json_404(admin):
    response = admin.get("/api/v1/assets/2.77e-11/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_dead_letters_answer_503_when_the_broker_refuses(admin):
    with override_settings(CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672/no-such-vhost"):
        response = admin.get("/api/v1/ops/dead-letters/")
    assert response.status_code == 503, response.content


def test_schema_documents_the_error_answers():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    transition = paths["/api/v1/repairs/{id}/transition/"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "413"} <= set(transition)
    assert "429" in paths["/api/v1/auth/token/"]["post"]["responses"]
    assert "503" in paths["/api/v1/ops/dead-letters/"]["get"]["responses"]
    listing = paths["/api/v1/repairs/"]["get"]["responses"]
    assert {"400", "401", "403", "404"} <= set(listing) and "409" not in listing


def test_the_first_history_step_comes_from_null_not_an_empty_status(api, world):
    created = api(world.a.resident).post(
        "/api/v1/repairs/", {"category": "plumbing", "description": "Leak"}, format="json"
    )
    assert created.status_code == 201, created.content
    history = api(world.a.resident).get(f"/api/v1/repairs/{created.json()['id']}/history/")
    assert history.json()[0]["from_status"] is None


def test_a_notification_id_that_is_not_a_number_is_404(api, world):
    response = api(world.a.resident).get("/api/v1/notifications/null,null/status/")
    assert response.status_code == 404 and response.json()["detail"]


def test_schema_describes_the_dead_letter_list_as_it_is_answered():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    answer = schema["paths"]["/api/v1/ops/dead-letters/"]["get"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == {"count", "results"}


# --- Domain errors are answered once, by apps.core.api.exception_handler ------------------


def test_a_refused_preference_names_its_field(api, world):
    """NotificationRequestError from preferences_update: 400 on `enabled`, nothing stored."""
    mandatory = [{"category": "account", "channel": "email", "enabled": False}]
    response = api(world.a.resident).put(
        "/api/v1/notifications/preferences/", mandatory, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"enabled": ["account notifications cannot be switched off"]}


def test_an_unknown_dead_letter_queue_is_404_with_the_known_ones(admin):
    response = admin.get("/api/v1/ops/dead-letters/", {"queue": "no-such-queue"})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("unknown queue 'no-such-queue'; known queues: ")


@pytest.mark.parametrize(
    ("error", "status", "body", "headers"),
    [
        (
            Conflict("Not now.", allowed_transitions=["closed"], version=3),
            409,
            {"detail": "Not now.", "allowed_transitions": ["closed"], "version": 3},
            {},
        ),
        (
            InvitationError("Expired.", field="invitation_token"),
            400,
            {"invitation_token": ["Expired."]},
            {},
        ),
        (ConfirmationError("Used."), 400, {"token": ["Used."]}, {}),
        (
            DeadLetterError("no dead letter 'x' in q"),
            404,
            {"detail": "no dead letter 'x' in q"},
            {},
        ),
        (DeadLetterUnroutableError("x stays in q.dlq"), 409, {"detail": "x stays in q.dlq"}, {}),
        (
            BrokerUnavailable(ConnectionRefusedError(111, "refused")),
            503,
            {"detail": "The message broker is unreachable; try again shortly."},
            {},
        ),
        (
            LoginLocked(30),
            429,
            {
                "detail": "Too many failed logins; try again later. "
                "Expected available in 30 seconds."
            },
            {"Retry-After": "30"},
        ),
        (DjangoValidationError({"unit": ["Not yours."]}), 400, {"unit": ["Not yours."]}, {}),
    ],
)
def test_each_domain_error_has_one_answer(error, status, body, headers):
    """Pure mapping (no request needed): the status, body and headers views used to build
    by hand in try/except blocks (tests/architecture/test_access_policy.py forbids those)."""
    response = exception_handler(error, {})
    assert (response.status_code, response.data) == (status, body)
    assert {name: response[name] for name in headers} == headers


@pytest.mark.django_db(transaction=True)
def test_a_lost_database_connection_answers_503_not_500(world, api):
    """PostgreSQL ends the request's session (a restart, pg_terminate_backend; the fault
    suite does it under load): the answer is 503 with Retry-After, never a 500."""
    client = api(world.a.resident)
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    other = connection.copy()  # a session of its own
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    finally:
        other.close()
    response = client.post(
        "/api/v1/repairs/",
        {"unit": world.a.unit.pk, "category": "plumbing", "description": "Leak"},
        format="json",
    )
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "1"
    assert "database" in response.json()["detail"]
    connection.close()  # the test's own handle on the ended session, before teardown
