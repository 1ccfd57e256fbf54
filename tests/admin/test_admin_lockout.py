"""Brute force on the admin login (/admin/login/, posted as an attacker would with Django's
test client): the admin shares the API's lockout per account and per client address
(apps/accounts/throttling.py, counted in Redis), both ways, with a clear message."""

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.core.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN, TOKEN = "/admin/login/?next=/admin/", "/api/v1/auth/token/"
LOCKED = "Too many failed logins"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff():
    return UserFactory(username="mia", role=Role.MAINTENANCE)


def admin_login(username="mia", password=PASSWORD, address="10.0.0.1", **headers):
    """A fresh browser at the admin's login form: (logged in?, page text)."""
    client = Client(REMOTE_ADDR=address)
    response = client.post(ADMIN_LOGIN, {"username": username, "password": password}, **headers)
    assert response.status_code in (200, 302), response.status_code
    logged_in = response.status_code == 302 and client.get("/admin/").status_code == 200
    return logged_in, response.content.decode()


def api_login(username="mia", password=PASSWORD, address="10.0.0.1"):
    return Client(REMOTE_ADDR=address).post(
        TOKEN, {"username": username, "password": password}, content_type="application/json"
    )


def test_wrong_passwords_lock_the_admin_login(staff):
    for _ in range(5):
        logged_in, page = admin_login(password="wrong")
        assert not logged_in and "Please enter the correct username" in page
    logged_in, page = admin_login()  # the right password, too late
    assert not logged_in and LOCKED in page and "try again in 1 minute" in page
    # the account is locked, not only the address
    assert admin_login(address="10.0.0.2")[0] is False


def test_locked_on_the_api_is_refused_in_the_admin(staff):
    for _ in range(5):
        assert api_login(password="wrong").status_code == 400
    assert api_login().status_code == 429
    logged_in, page = admin_login(address="10.0.0.9")
    assert not logged_in and LOCKED in page


def test_locked_in_the_admin_is_refused_on_the_api(staff):
    for _ in range(5):
        assert admin_login(password="wrong")[0] is False
    locked = api_login(address="10.0.0.9")
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0


def test_a_success_clears_the_account_count_in_both(staff):
    for _ in range(4):
        admin_login(password="wrong")
    assert admin_login()[0] is True
    for _ in range(4):
        assert api_login(password="wrong").status_code == 400
    assert api_login().status_code == 200


def test_a_resident_with_the_right_password_is_refused_but_not_counted():
    UserFactory(username="rita", role=Role.RESIDENT)
    for _ in range(6):
        logged_in, page = admin_login("rita")
        assert not logged_in and LOCKED not in page
    assert api_login("rita").status_code == 200


@hypothesis_settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(forwarded=st.lists(st.text(max_size=40), min_size=8, max_size=8, unique=True))
def test_one_address_guessing_accounts_in_the_admin_is_locked(forwarded, settings):
    """Whatever X-Forwarded-For it sends (no trusted proxy), one address is one count."""
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    cache.clear()
    answers = [
        admin_login(f"guess{n}", "wrong", address="203.0.113.5", HTTP_X_FORWARDED_FOR=value)[1]
        for n, value in enumerate(forwarded)
    ]
    assert [LOCKED in page for page in answers] == [False] * 5 + [True] * 3
    # another address is not locked
    assert LOCKED not in admin_login("guess0", "wrong", address="203.0.113.6")[1]
