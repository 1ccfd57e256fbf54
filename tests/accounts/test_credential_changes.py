"""Every way a password changes or an account is switched off signs the user out everywhere:
every API token is revoked and every browser session stops working. One path each, driven
as the operator drives it: the admin's password form, `manage.py changepassword`, the
reset link through the API, and unticking "active" in the admin's user form."""

import io
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_issue
from apps.registration.services import password_reset_link
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
NEW_PASSWORD = "another-long-passphrase-77"


@pytest.fixture(autouse=True)
def unthrottled():
    cache.clear()  # the sign-out, not the auth throttle's count, is under test


@pytest.fixture
def ann():
    return UserFactory(username="ann", email="ann@example.com", phone="+15550100")


@pytest.fixture
def signed_in(ann):
    """ann with two API tokens and a browser session; `still_in()` says which still work."""
    keys = [api_token_issue(ann)[1] for _ in range(2)]
    browser = Client()
    assert browser.login(username="ann", password=PASSWORD)

    def still_in():
        answers = []
        for key in keys:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            answers.append(client.get(ME).status_code)
        answers.append(browser.get(ME).status_code)
        return answers

    assert still_in() == [200, 200, 200]
    return still_in


@pytest.fixture
def admin_browser():
    boss = UserFactory(role="admin", is_superuser=True)
    browser = Client()
    browser.force_login(boss)
    return browser


def test_the_admin_password_form_signs_the_user_out_everywhere(ann, signed_in, admin_browser):
    answer = admin_browser.post(
        f"/admin/accounts/user/{ann.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert answer["Location"] == f"/admin/accounts/user/{ann.pk}/change/"
    ann.refresh_from_db()
    assert ann.check_password(NEW_PASSWORD)
    assert signed_in() == [401, 401, 401]
    assert not ApiToken.objects.filter(user=ann).exists()


def test_the_admin_disabling_password_login_signs_the_user_out(ann, signed_in, admin_browser):
    answer = admin_browser.post(
        f"/admin/accounts/user/{ann.pk}/password/",
        {"usable_password": "false", "unset-password": "Disable password-based authentication"},
    )
    assert answer["Location"] == f"/admin/accounts/user/{ann.pk}/change/"
    ann.refresh_from_db()
    assert not ann.has_usable_password()
    assert signed_in() == [401, 401, 401]


def test_manage_py_changepassword_signs_the_user_out_everywhere(ann, signed_in):
    with mock.patch("getpass.getpass", return_value=NEW_PASSWORD):
        call_command("changepassword", "ann", stdout=io.StringIO())
    ann.refresh_from_db()
    assert ann.check_password(NEW_PASSWORD)
    assert signed_in() == [401, 401, 401]


def test_a_password_reset_through_the_api_signs_the_user_out_everywhere(ann, signed_in):
    ann.refresh_from_db()  # the link is bound to the last login, which signing in moved
    uid, token = password_reset_link(ann)
    answer = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert signed_in() == [401, 401, 401]


def test_deactivating_a_user_in_the_admin_signs_them_out_for_good(ann, signed_in, admin_browser):
    form = {
        "username": "ann",
        "first_name": ann.first_name,
        "last_name": ann.last_name,
        "email": ann.email,
        "phone": ann.phone,
        "role": ann.role,
        # is_active unticked: the checkbox is absent from the POST
    }
    answer = admin_browser.post(f"/admin/accounts/user/{ann.pk}/change/", form)
    assert answer.status_code == 302, answer.content
    ann.refresh_from_db()
    assert not ann.is_active
    assert signed_in() == [401, 401, 401]
    # the tokens are gone, not only refused: reactivating the account revives none of them
    assert not ApiToken.objects.filter(user=ann).exists()
    ann.is_active = True
    ann.save()
    assert signed_in()[:2] == [401, 401]


def test_a_login_that_upgrades_the_password_hash_revokes_nothing(ann, signed_in, settings):
    """Django re-hashes a password on login when its hasher changed; that is no change of
    password (the same one still works), so nobody is signed out."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.ScryptPasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]
    assert Client().login(username="ann", password=PASSWORD)
    ann.refresh_from_db()
    assert ann.password.startswith("scrypt$")
    assert signed_in()[:2] == [200, 200]


def test_the_api_password_change_keeps_the_token_that_asked(ann, signed_in):
    key = api_token_issue(ann)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    answer = client.post(
        "/api/v1/auth/password/change/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert client.get(ME).status_code == 200
    assert signed_in() == [401, 401, 401]
