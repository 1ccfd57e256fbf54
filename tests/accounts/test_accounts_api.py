"""Registration, confirmation, tokens and `me`, through the API."""

import pytest
from django.core.cache import cache
from django.test import override_settings

from apps.accounts.models import User
from apps.messaging.models import OutboxMessage
from apps.registration.services import user_confirmation_token_make
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()


def register(client, unit_code, email="sam@example.com", password=PASSWORD):
    return client.post(
        "/api/v1/auth/register/",
        {"email": email, "password": password, "name": "Sam Doe", "unit_code": unit_code},
        format="json",
    )


def test_registration_creates_an_inactive_resident_and_publishes(api, world):
    response = register(api(), world.a.unit.code)
    assert response.status_code == 202
    user = User.objects.get(email="sam@example.com")
    assert not user.is_active and user.role == "resident"
    assert user.residencies.get().unit == world.a.unit
    events = set(OutboxMessage.objects.values_list("event", flat=True))
    assert events == {"user.registered"}


def test_existing_address_answers_identically_and_mails_the_owner(api, world):
    first = register(api(), world.a.unit.code)
    again = register(api(), world.a.unit.code, password="another-long-passphrase-77")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert User.objects.filter(email="sam@example.com").count() == 1
    assert OutboxMessage.objects.filter(event="user.registration_repeated").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "123"}, "password"),
        ({"unit_code": ""}, "unit_code"),  # an unknown code is accepted: test_registration.py
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_bad_registration_is_a_400_and_changes_nothing(api, world, overrides, field):
    payload = {"email": "sam@example.com", "password": PASSWORD, "name": "Sam"}
    payload = {**payload, "unit_code": world.a.unit.code, **overrides}
    response = api().post("/api/v1/auth/register/", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not User.objects.filter(email="sam@example.com").exists()
    assert not OutboxMessage.objects.exists()


def test_confirmation_token_works_once(api, world):
    register(api(), world.a.unit.code)
    user = User.objects.get(email="sam@example.com")
    token = user_confirmation_token_make(user)
    assert api().post("/api/v1/auth/confirm/", {"token": token}, format="json").status_code == 200
    user.refresh_from_db()
    assert user.is_active
    reused = api().post("/api/v1/auth/confirm/", {"token": token}, format="json")
    assert reused.status_code == 400
    garbage = api().post("/api/v1/auth/confirm/", {"token": "garbage"}, format="json")
    assert garbage.status_code == 400


def test_expired_token_is_refused(api, world):
    register(api(), world.a.unit.code)
    user = User.objects.get(email="sam@example.com")
    token = user_confirmation_token_make(user)
    with override_settings(ACCOUNT_CONFIRMATION_MAX_AGE=-1):
        response = api().post("/api/v1/auth/confirm/", {"token": token}, format="json")
    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.is_active


def test_confirm_page_get_changes_nothing(api, world):
    register(api(), world.a.unit.code)
    user = User.objects.get(email="sam@example.com")
    page = api().get("/accounts/confirm/", {"token": user_confirmation_token_make(user)})
    assert page.status_code == 200 and b"<form" in page.content
    user.refresh_from_db()
    assert not user.is_active


def test_token_and_me(api, world):
    resident = world.a.resident
    resident.set_password(PASSWORD)
    resident.save()
    wrong = api().post(
        "/api/v1/auth/token/", {"username": resident.username, "password": "x"}, format="json"
    )
    assert wrong.status_code == 400
    token = (
        api()
        .post(
            "/api/v1/auth/token/",
            {"username": resident.username, "password": PASSWORD},
            format="json",
        )
        .json()["token"]
    )
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/auth/me/").json()
    assert me["email"] == resident.email and me["role"] == "resident"
    assert api().get("/api/v1/auth/me/").status_code == 401


def test_auth_endpoints_are_throttled(api, world):
    client = api()
    codes = [
        client.post("/api/v1/auth/confirm/", {"token": "x"}, format="json").status_code
        for _ in range(25)
    ]
    assert 429 in codes
