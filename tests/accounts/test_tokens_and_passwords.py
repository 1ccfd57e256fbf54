"""Login lockout per account and per address (shared Redis counts), expiring and revocable
API tokens, password change and password reset by email."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import throttling
from apps.accounts.models import ApiToken
from apps.messaging.models import OutboxMessage
from apps.registration.services import password_reset_send
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN, ME = "/api/v1/auth/token/", "/api/v1/auth/me/"
RESET, RESET_CONFIRM = "/api/v1/auth/password/reset/", "/api/v1/auth/password/reset/confirm/"
NEW_PASSWORD = "another-long-passphrase-77"


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"},  # the lockout, not the rate, under test
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user():
    return UserFactory(username="ann", email="ann@example.com")


def login(username="ann", password=PASSWORD, address="10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(
        TOKEN, {"username": username, "password": password}, format="json"
    )


def as_token(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- login lockout --------------------------------------------------------------------------
def test_the_sixth_wrong_password_is_429_with_retry_after(user):
    for _ in range(5):
        assert login(password="wrong").status_code == 400
    locked = login(password="wrong")
    assert locked.status_code == 429
    assert 55 <= int(locked["Retry-After"]) <= 60
    assert login().status_code == 429  # the right password waits too
    # from another address too: the account is locked, not only the address
    assert login(address="10.0.0.2").status_code == 429


class Clock:
    """The throttle's clock, moved by hand (the Redis keys keep their real TTLs)."""

    def __init__(self):
        self.now = 1_000_000.0

    def time(self):
        return self.now


def test_the_lockout_doubles_with_each_further_failure(user, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(throttling, "time", clock)
    for _ in range(5):
        login(password="wrong")
    waits = [int(login(password="wrong")["Retry-After"])]
    for _ in range(3):
        clock.now += waits[-1] + 1  # the lock is over: one more try, one more failure
        assert login(password="wrong").status_code == 400
        waits.append(int(login(password="wrong")["Retry-After"]))
    assert waits == [60, 120, 240, 480]


def test_an_unknown_account_locks_like_a_real_one():
    for _ in range(5):
        assert login(username="nobody", password="wrong").status_code == 400
    assert login(username="nobody", password="wrong").status_code == 429


def test_a_success_clears_the_accounts_count(user):
    for _ in range(4):
        login(password="wrong")
    assert login().status_code == 200
    for _ in range(4):
        assert login(password="wrong").status_code == 400
    assert login().status_code == 200


def test_one_address_guessing_many_accounts_is_locked(settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 8
    for n in range(8):
        assert login(username=f"user{n}", password="wrong").status_code == 400
    assert login(username="someone-else", password="wrong").status_code == 429
    assert login(username="someone-else", password="wrong", address="10.9.9.9").status_code == 400


# --- tokens ---------------------------------------------------------------------------------
def test_each_login_gets_its_own_expiring_token_stored_as_a_digest(user, settings):
    settings.TOKEN_TTL = 3600
    first, second = login().json(), login().json()
    assert first["token"] != second["token"]
    row = ApiToken.objects.get(user=user, expires_at=first["expires_at"])
    assert first["token"] not in row.digest
    assert timedelta(minutes=59) < row.expires_at - timezone.now() <= timedelta(hours=1)
    assert as_token(first["token"]).get(ME).status_code == 200


def test_an_expired_token_is_401(user):
    key = login().json()["token"]
    ApiToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert as_token(key).get(ME).status_code == 401


def test_logout_revokes_this_token_only(user):
    first, second = login().json()["token"], login().json()["token"]
    assert as_token(first).post("/api/v1/auth/logout/").status_code == 204
    assert as_token(first).get(ME).status_code == 401
    assert as_token(second).get(ME).status_code == 200


def test_logout_everywhere_revokes_every_token(user):
    keys = [login().json()["token"] for _ in range(3)]
    assert as_token(keys[0]).post("/api/v1/auth/logout-all/").status_code == 204
    assert [as_token(key).get(ME).status_code for key in keys] == [401, 401, 401]


# --- password change and reset --------------------------------------------------------------
def change(client, old, new):
    return client.post(
        "/api/v1/auth/password/change/", {"old_password": old, "new_password": new}, format="json"
    )


def test_password_change_needs_the_old_one_and_revokes_other_tokens(user):
    this, other = login().json()["token"], login().json()["token"]
    client = as_token(this)
    wrong = change(client, "nope", NEW_PASSWORD)
    assert wrong.status_code == 400 and "old_password" in wrong.json()
    weak = change(client, PASSWORD, "123")
    assert weak.status_code == 400 and "new_password" in weak.json()
    changed = change(client, PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 200, changed.content
    assert client.get(ME).status_code == 200
    assert as_token(other).get(ME).status_code == 401
    assert login(password=NEW_PASSWORD).status_code == 200


def test_a_stolen_token_cannot_guess_the_password_by_changing_it(user):
    """Wrong current passwords count like wrong logins, per account: the sixth is 429,
    and then neither the right password nor a login from elsewhere gets through."""
    client = as_token(login().json()["token"])
    for guess in range(5):
        assert change(client, f"guess-{guess}", NEW_PASSWORD).status_code == 400
    locked = change(client, "guess-5", NEW_PASSWORD)
    assert locked.status_code == 429 and 55 <= int(locked["Retry-After"]) <= 60
    assert change(client, PASSWORD, NEW_PASSWORD).status_code == 429  # the right one waits too
    assert login(address="10.7.7.7").status_code == 429  # the account is locked
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_right_current_password_clears_the_count(user):
    client = as_token(login().json()["token"])
    for guess in range(4):
        assert change(client, f"guess-{guess}", NEW_PASSWORD).status_code == 400
    assert change(client, PASSWORD, NEW_PASSWORD).status_code == 200
    assert change(client, "guess-5", PASSWORD).status_code == 400
    assert change(client, NEW_PASSWORD, PASSWORD).status_code == 200


def test_password_reset_request_reveals_nothing_and_goes_through_the_queue(user):
    known = APIClient().post(RESET, {"email": "ANN@example.com"}, format="json")
    unknown = APIClient().post(RESET, {"email": "nobody@example.com"}, format="json")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 202
    [row] = OutboxMessage.objects.filter(event="user.password_reset_requested")
    assert row.task_name == "email.send_password_reset"
    assert row.payload[0]["data"] == {"user_id": user.pk}


def reset_link(user):
    mail = password_reset_send(user.pk)
    assert mail.user == user and mail.variables["reset_url"] in mail.body_text
    return mail.variables


def test_password_reset_confirm_works_once_and_revokes_every_token(user):
    key = login().json()["token"]
    link = reset_link(user)
    body = {"uid": link["uid"], "token": link["token"], "new_password": NEW_PASSWORD}
    done = APIClient().post(RESET_CONFIRM, body, format="json")
    assert done.status_code == 200, done.content
    assert as_token(key).get(ME).status_code == 401
    assert login(password=NEW_PASSWORD).status_code == 200
    again = APIClient().post(
        RESET_CONFIRM, {**body, "new_password": "yet-another-pass-88"}, format="json"
    )
    assert again.status_code == 400 and "token" in again.json()
    bad_uid = APIClient().post(RESET_CONFIRM, {**body, "uid": "!!"}, format="json")
    assert bad_uid.status_code == 400


def test_password_reset_link_expires(user, settings):
    link = reset_link(user)
    settings.PASSWORD_RESET_TIMEOUT = -1
    body = {"uid": link["uid"], "token": link["token"], "new_password": NEW_PASSWORD}
    assert APIClient().post(RESET_CONFIRM, body, format="json").status_code == 400


def test_the_emailed_page_resets_the_password_and_revokes_tokens(user):
    key = login().json()["token"]
    url = reset_link(user)["reset_url"]
    browser = Client()
    form = browser.get(re.sub(r"^https?://[^/]+", "", url), follow=True)
    assert form.status_code == 200 and b"new_password1" in form.content
    done = browser.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert done.status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert as_token(key).get(ME).status_code == 401


def test_a_login_with_a_nul_character_is_a_400_not_a_500():
    assert login(username="ann\x00", password="wrong").status_code == 400
