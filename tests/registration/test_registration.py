"""Registration edge cases, the confirmation page, login by email, services' atomicity."""

import pytest
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.messaging.models import OutboxMessage
from apps.properties.models import Residency
from apps.registration import services
from apps.registration.services import user_confirmation_token_make, user_confirmation_url
from tests.factories import PASSWORD, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def unit():
    return UnitFactory(code="OAK-7")


def register(unit, **extra):
    body = {
        "email": "ann@example.com",
        "password": PASSWORD,
        "first_name": "Ann",
        "last_name": "Lee",
        "phone": "+441234",
        "unit_code": unit.code,
        **extra,
    }
    return APIClient().post(REGISTER, body, format="json")


def test_new_registration_payload_and_fields(unit):
    response = register(unit)
    assert response.status_code == 202
    user = User.objects.get(email="ann@example.com")
    assert (user.username, user.first_name, user.last_name, user.phone) == (
        "ann@example.com",
        "Ann",
        "Lee",
        "+441234",
    )
    assert not user.is_active and user.check_password(PASSWORD)
    [row] = OutboxMessage.objects.filter(task_name="email.send_registration_confirmation")
    assert row.event == "user.registered"
    assert row.payload[0]["data"] == {"user_id": user.id}
    assert OutboxMessage.objects.filter(event="user.registered").count() == 1


def test_repeat_registration_is_indistinguishable_and_changes_nothing(unit):
    existing = UserFactory(role="resident", email="ann@example.com", username="ann")
    other_unit = UnitFactory(code="OAK-8")
    first = register(other_unit, email="someone.new@example.com")
    again = register(other_unit, email="ANN@Example.com", password="brand-new-passphrase-99")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)  # password untouched
    assert not Residency.objects.filter(resident=existing).exists()  # no residency added
    [row] = OutboxMessage.objects.filter(event="user.registration_repeated")
    assert row.payload[0]["data"] == {"user_id": existing.id}
    assert row.task_name == "email.send_account_exists_notice"


def test_repeat_registration_is_still_validated_like_a_new_one(unit):
    UserFactory(role="resident", email="ann@example.com")
    new = register(unit, email="fresh@example.com", password="short")
    old = register(unit, password="short")
    assert old.status_code == new.status_code == 400
    assert old.json() == new.json()
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("code", ["NO-SUCH-UNIT", "oak-8", "'; --", "Ünit-☃"])
def test_registration_does_not_tell_whether_a_unit_code_exists(unit, code):
    real = register(unit, email="real.code@example.com")
    guessed = register(unit, email="guessed.code@example.com", unit_code=code)
    assert (guessed.status_code, guessed.json()) == (real.status_code, real.json())
    # The account is created (and confirmed the same way) but claims nothing.
    stranger = User.objects.get(email="guessed.code@example.com")
    assert not stranger.is_active and not Residency.objects.filter(resident=stranger).exists()
    assert OutboxMessage.objects.filter(event="user.registered").count() == 2


def test_password_validators_apply_with_messages(unit):
    response = register(unit, password="ann@example.com")
    assert response.status_code == 400
    assert response.json()["password"]  # too similar to the email
    assert register(unit, password="12345678901").json()["password"]  # entirely numeric


def test_name_alternative_splits(unit):
    assert register(unit, first_name="", last_name="", name="Ann Marie Lee").status_code == 202
    user = User.objects.get(email="ann@example.com")
    assert (user.first_name, user.last_name) == ("Ann", "Marie Lee")


def test_confirmation_url_points_at_the_page_and_the_page_post_activates(unit, settings):
    settings.SITE_URL = "https://pm.example.org"
    register(unit)
    user = User.objects.get(email="ann@example.com")
    url = user_confirmation_url(user)
    assert url.startswith("https://pm.example.org/accounts/confirm/?token=")
    path = url.removeprefix("https://pm.example.org")
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path)
    assert page.status_code == 200
    user.refresh_from_db()
    assert not user.is_active  # a GET changes nothing
    token = page.context["token"]
    csrf = browser.cookies["csrftoken"].value
    done = browser.post(path, {"token": token, "csrfmiddlewaretoken": csrf})
    assert done.status_code == 200 and b"confirmed" in done.content
    user.refresh_from_db()
    assert user.is_active
    again = browser.post(path, {"token": token, "csrfmiddlewaretoken": csrf})
    assert again.status_code == 400


def test_tampered_or_foreign_tokens_are_refused(unit):
    register(unit)
    user = User.objects.get(email="ann@example.com")
    other = UserFactory(role="resident", is_active=False)
    token = user_confirmation_token_make(user)
    forged = signing.dumps({"u": other.id, "f": token}, salt="wrong-salt")
    for bad in (token[:-2] + "xx", forged, "", "a" * 900):
        response = APIClient().post("/api/v1/auth/confirm/", {"token": bad}, format="json")
        assert response.status_code == 400, bad
        assert "token" in response.json()
    other.refresh_from_db()
    user.refresh_from_db()
    assert not other.is_active and not user.is_active


def test_token_by_email_and_inactive_users_get_none(unit):
    active = UserFactory(role="resident", email="bo@example.com")
    response = APIClient().post(
        "/api/v1/auth/token/", {"email": "BO@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200 and response.json()["token"]
    by_login = APIClient().post(
        "/api/v1/auth/token/", {"username": "bo@example.com", "password": PASSWORD}, format="json"
    )
    assert by_login.status_code == 200  # each login its own token
    assert by_login.json()["token"] != response.json()["token"]
    register(unit)
    inactive = APIClient().post(
        "/api/v1/auth/token/", {"email": "ann@example.com", "password": PASSWORD}, format="json"
    )
    assert inactive.status_code == 400
    empty = APIClient().post("/api/v1/auth/token/", {"password": "x"}, format="json")
    assert empty.status_code == 400 and "username" in empty.json()
    assert active.is_active


def test_me_shows_role_unit_and_properties(api, unit):
    resident = UserFactory(role="resident", unit=unit)
    me = api(resident).get("/api/v1/auth/me/").json()
    assert me["unit"] == {"id": unit.id, "code": unit.code, "property_id": unit.property_id}
    assert me["property_ids"] == [unit.property_id]
    manager = UserFactory(role="manager", property=unit.property)
    me = api(manager).get("/api/v1/auth/me/").json()
    assert me["role"] == "manager" and me["unit"] is None


def test_rolled_back_registration_publishes_nothing(unit):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.user_register(email="ann@example.com", password=PASSWORD, unit=unit)
        assert OutboxMessage.objects.filter(event="user.registered").exists()
        raise RuntimeError("the request failed after the service")
    assert not User.objects.filter(email="ann@example.com").exists()
    assert not OutboxMessage.objects.exists()


def test_register_throttled_with_auth_scope(unit, settings):
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"].split("/")[0])
    codes = [register(unit, email=f"u{i}@example.com").status_code for i in range(limit + 2)]
    assert codes[:limit] == [202] * limit and codes[-1] == 429
