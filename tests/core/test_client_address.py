"""One client-address rule (apps/core/client.py, TRUSTED_PROXY_COUNT) for the auth throttle,
the login lockout, /metrics and X-Forwarded-Proto, attacked with hostile X-Forwarded-For
and X-Forwarded-Proto values that hypothesis makes up: never a 500, never a bypass."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

TOKEN, RESET, METRICS = "/api/v1/auth/token/", "/api/v1/auth/password/reset/", "/metrics"
ATTACKER = "203.0.113.7"
PROXY = "127.0.0.1"

printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
hop = st.one_of(
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]:443"),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.sampled_from(["", "unknown", "127.0.0.1", "::1", "localhost", "_hidden", "0.0.0.0"]),
    st.text(printable, max_size=30),
)
# What a client may put in X-Forwarded-For: lists of anything, any separators and spaces.
forwarded_for = st.builds(
    lambda hops, sep, pad: pad + sep.join(hops) + pad,
    st.lists(hop, max_size=6),
    st.sampled_from([",", ", ", " ,  ", ",,", "\t,"]),
    st.sampled_from(["", " ", "  "]),
)
examples = hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=list(HealthCheck)
)


def post(path, data, forwarded, remote=ATTACKER):
    response = Client(REMOTE_ADDR=remote).post(
        path, data, content_type="application/json", HTTP_X_FORWARDED_FOR=forwarded
    )
    assert response.status_code < 500, (forwarded, response.content[:300])
    return response.status_code


@examples
@given(st.lists(forwarded_for, min_size=24, max_size=24, unique=True))
def test_rotating_forwarded_for_is_throttled_without_a_proxy(values):
    cache.clear()
    answers = [post(RESET, {"email": f"x{n}@example.com"}, v) for n, v in enumerate(values)]
    assert 429 not in answers[:20] and set(answers[21:]) == {429}, answers


@examples
@given(values=st.lists(forwarded_for, min_size=8, max_size=8, unique=True))
def test_rotating_forwarded_for_is_locked_out_without_a_proxy(values, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    cache.clear()
    answers = [
        post(TOKEN, {"username": f"guess{n}", "password": "wrong"}, v) for n, v in enumerate(values)
    ]
    assert answers[:5] == [400] * 5 and set(answers[5:]) == {429}, answers


@examples
@given(
    values=st.lists(forwarded_for, min_size=8, max_size=8, unique=True),
    real=st.sampled_from([ATTACKER, "2001:db8:1:2::5", "::ffff:203.0.113.7"]),
    data=st.data(),
)
def test_behind_a_proxy_the_client_is_what_the_proxy_appended(values, real, data, settings):
    """The client writes anything on the left; the proxy appends the address it saw. Rotating
    the left part, or the low 64 bits of an IPv6 address, is still one client."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    cache.clear()
    answers = []
    for n, value in enumerate(values):
        seen = real
        if ":" in real and "." not in real:  # another address of the same IPv6 /64
            seen = f"2001:db8:1:2:{data.draw(st.integers(0, 0xFFFF)):x}::{n + 1:x}"
        forwarded = f"{value}, {seen}" if value.strip() else seen
        answers.append(post(TOKEN, {"username": f"g{n}", "password": "x"}, forwarded, PROXY))
    assert answers[:5] == [400] * 5 and set(answers[5:]) == {429}, answers
    # Another client behind the same proxy has its own count.
    other = post(TOKEN, {"username": "other", "password": "x"}, "198.51.100.1", PROXY)
    assert other == 400


@examples
@given(value=forwarded_for)
def test_metrics_refuse_a_remote_client_whatever_it_claims(value, settings):
    settings.METRICS_TOKEN = ""
    for count, remote, forwarded in (
        (0, ATTACKER, value),  # no proxy: the header is ignored
        (0, ATTACKER, "127.0.0.1"),
        (1, PROXY, f"{value}, {ATTACKER}"),  # a local proxy: the client is not local
        (1, PROXY, f"{value},{ATTACKER}"),
        (2, PROXY, f"{value}, {ATTACKER}, 10.0.0.2"),
    ):
        settings.TRUSTED_PROXY_COUNT = count
        response = Client(REMOTE_ADDR=remote).get(METRICS, HTTP_X_FORWARDED_FOR=forwarded)
        assert response.status_code == 403, (count, remote, forwarded)


def test_metrics_allow_a_local_client_through_a_local_proxy(settings):
    settings.METRICS_TOKEN = ""
    settings.TRUSTED_PROXY_COUNT = 1
    assert Client(REMOTE_ADDR=PROXY).get(METRICS, HTTP_X_FORWARDED_FOR="::1").status_code == 200


SECURE_PROBE = """
import json, sys
import django
django.setup()
from django.test import RequestFactory
values = json.load(sys.stdin)
print(json.dumps([RequestFactory().get("/", HTTP_X_FORWARDED_PROTO=v).is_secure() for v in values]))
"""


def is_secure_in_production(values, trusted_proxy_count):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "propmgmt.settings",
        "DEBUG": "false",
        "SECRET_KEY": "a-production-like-secret-key-for-the-test-only-0123456789",
        "TRUSTED_PROXY_COUNT": str(trusted_proxy_count),
    }
    done = subprocess.run(
        [sys.executable, "-c", SECURE_PROBE],
        input=json.dumps(values),
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@hypothesis_settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.text(printable, max_size=20), st.just("https")), min_size=30))
def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(values):
    values = [*values, "https", "https, http", " https"]
    assert not any(is_secure_in_production(values, trusted_proxy_count=0))
    behind_a_proxy = is_secure_in_production(values, trusted_proxy_count=1)
    assert behind_a_proxy == [v.split(",")[0].strip() == "https" for v in values]


def test_nothing_else_reads_the_client_address():
    """One rule: the address headers and DRF's throttles are used in apps/core only."""
    readers = re.compile(r"REMOTE_ADDR|FORWARDED|get_ident\(|rest_framework\.throttling")
    found = [
        f"{path.relative_to(django_settings.BASE_DIR)}:{n}"
        for top in ("apps", "propmgmt", "tasks")
        for path in sorted((django_settings.BASE_DIR / top).rglob("*.py"))
        if path.parent.name != "core" or path.parent.parent.name != "apps"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if readers.search(line)
        and not line.lstrip().startswith("#")
        and not line.startswith("SECURE_PROXY_SSL_HEADER = ")  # Django reads it, per the count
    ]
    assert found == []
