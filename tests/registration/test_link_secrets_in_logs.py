"""The links in account emails carry secrets (a confirmation token, a password reset
token); following them must not write those secrets into the access log, where anyone
who reads logs could use them within their lifetime."""

import logging
import re
from urllib.parse import unquote

import pytest
from django.test import Client

from apps.registration.services import password_reset_link, user_confirmation_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def access_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "propmgmt.access"]


def test_the_confirmation_link_token_is_not_logged(caplog):
    user = UserFactory(is_active=False)
    url = user_confirmation_url(user)
    token = unquote(url.split("token=", 1)[1])
    with caplog.at_level(logging.INFO, logger="propmgmt.access"):
        page = Client().get(re.sub(r"^https?://[^/]+", "", url))
    assert page.status_code == 200 and token in page.content.decode()  # the form still has it
    [line] = access_lines(caplog)
    assert line.startswith("GET /accounts/confirm/?token=[redacted] 200"), line
    assert token not in caplog.text


def test_the_password_reset_link_token_is_not_logged(caplog):
    user = UserFactory()
    uid, token = password_reset_link(user)
    with caplog.at_level(logging.INFO, logger="propmgmt.access"):
        answer = Client().get(f"/accounts/reset/{uid}/{token}/")
        Client().get(f"/accounts/reset/{uid}/not-{token}/")  # a wrong one neither
    assert answer.status_code == 302
    lines = access_lines(caplog)
    assert lines[0].startswith(f"GET /accounts/reset/{uid}/[redacted]/ 302"), lines
    assert lines[1].startswith(f"GET /accounts/reset/{uid}/[redacted]/ 200"), lines
    assert token not in caplog.text
