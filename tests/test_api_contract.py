"""The OpenAPI schema is a contract: schemathesis fuzzes every operation as every demo role.

Each generated request is sent as each role `make run` leaves (the demo data) and
anonymously; any server error, any response that breaks its schema, any status the schema
does not document, or a wrong content type fails the test. FUZZ_EXAMPLES sets how many
examples per operation and FUZZ_PHASES which schemathesis phases run (small by default
so CI stays quick; raise them for a deeper run).
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts.models import User
from apps.accounts.services import api_token_issue
from tests.conftest import module_transaction

DEMO_USERS = ["admin", "manager", "maintenance", "security", "customer_service", "alice"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))


@pytest.fixture
def wsgi_app(db, role_headers):
    # As Django's test client does: a request must not close the test's transaction
    # (after role_headers, whose test-client requests reconnect the signal).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def role_headers(django_db_setup, django_db_blocker, broker_vhost):
    """One Authorization header per demo role (plus none), on the demo data with a few
    objects of every kind, so detail routes meet real ids too; the broker is up (a 503
    is a server error to schemathesis). Made once for the module: each operation's test
    starts from it, its own changes rolled back."""
    with module_transaction(django_db_blocker):
        yield _demo_role_headers()


def _demo_role_headers():
    call_command("seed_demo", verbosity=0)
    alice = APIClient()
    alice.force_authenticate(User.objects.get(username="alice"))
    alice.post(
        "/api/v1/repairs/",
        {"category": "plumbing", "description": "Dripping tap", "urgency": "normal"},
        format="json",
    )
    alice.post(
        "/api/v1/complaints/",
        {"category": "noise", "subject": "Music", "description": "Loud at night"},
        format="json",
    )
    alice.post("/api/v1/move-outs/", {"end_date": "2099-06-30"}, format="json")
    headers = {"anonymous": {}}
    for username in DEMO_USERS:
        _, key = api_token_issue(User.objects.get(username=username))
        headers[username] = {"Authorization": f"Token {key}"}
    return headers


schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
# Schemathesis' coverage phase (boundary values of every parameter) multiplies the run;
# FUZZ_PHASES=examples,coverage,fuzzing turns it on for a deeper run.
schema.config.phases.update(phases=os.environ.get("FUZZ_PHASES", "examples,fuzzing").split(","))


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_documented_and_no_server_error(case, wsgi_app, role_headers):
    for headers in role_headers.values():
        cache.clear()  # the auth throttle is exercised by its own tests
        case.call_and_validate(app=wsgi_app, headers=headers, checks=CHECKS)
