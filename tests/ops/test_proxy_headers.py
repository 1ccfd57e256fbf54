"""The web process as the Procfile starts it (gunicorn), reached over HTTP from 127.0.0.1
like a local reverse proxy: X-Forwarded-Proto and X-Forwarded-For count only when
TRUSTED_PROXY_COUNT says a proxy is in front (gunicorn itself believes neither). Whether
the request was taken for HTTPS shows in the HSTS header, sent on HTTPS responses only."""

import pytest
import requests

pytestmark = pytest.mark.broker

CLAIMS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.1"}


def get(web, path):
    return requests.get(web.url(path), headers=CLAIMS, allow_redirects=False, timeout=10)


def test_without_a_trusted_proxy_the_headers_claim_nothing(start_service):
    web = start_service("web", "/healthz/", SECURE_HSTS_SECONDS="60")
    answer = get(web, "/healthz/")
    assert answer.status_code == 200 and "Strict-Transport-Security" not in answer.headers


def test_behind_a_trusted_proxy_the_client_and_https_are_believed(start_service):
    web = start_service("web", "/healthz/", SECURE_HSTS_SECONDS="60", TRUSTED_PROXY_COUNT="1")
    answer = get(web, "/healthz/")
    assert answer.headers.get("Strict-Transport-Security") == "max-age=60"  # HTTPS, it says
    # /metrics sees the remote client, not the proxy's 127.0.0.1
    assert get(web, "/metrics").status_code == 403
