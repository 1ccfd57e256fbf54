"""What one `POST /api/v1/repairs/` costs the database, counted (deterministic, not timed;
docs/BENCHMARKS.md "Where a repair POST spends its time" has the profile)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.services import api_token_issue
from apps.messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)

# Token, current unit; BEGIN, repair, its history row, one outbox insert for every
# subscriber, COMMIT; the answer from the repair in hand and the history row just written.
# It was 19 with the synchronous publish and the re-checks of loaded related objects, 10
# with the answer re-read through the visibility query (visibility, repair, history), and
# 8 with the history (and who changed it) read back for the answer.
MAX_QUERIES = 7
# With an explicit unit (as bench/throughput.py posts): the field's unit with its property,
# among the resident's units (a subquery), and the service's residency check, instead of
# the current unit (it was 13: the property read lazily, and the answer re-read; 10 with
# the history read back; 9 with the resident's units read before the unit).
MAX_QUERIES_EXPLICIT_UNIT = 8


def resident_client(world):
    client = APIClient()
    _, key = api_token_issue(world.a.resident)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.parametrize("explicit_unit", [False, True])
def test_a_repair_post_runs_at_most_seven_queries_and_one_outbox_insert(world, explicit_unit):
    client = resident_client(world)
    body = {"category": "heating", "description": "No heat", "urgency": "urgent"}
    if explicit_unit:
        body["unit"] = world.a.unit.id
    budget = MAX_QUERIES_EXPLICIT_UNIT if explicit_unit else MAX_QUERIES
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/repairs/", body, format="json")
    assert response.status_code == 201, response.data
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) <= budget, "\n".join(statements)
    outbox_inserts = [sql for sql in statements if sql.startswith('INSERT INTO "messaging_outbox')]
    assert len(outbox_inserts) == 1
    assert OutboxMessage.objects.count() == 2  # both subscribers, in that one insert


def test_the_post_answers_what_a_get_of_the_new_repair_answers(world):
    """The create answers from the repair in hand, not re-read: the same body as GET."""
    client = resident_client(world)
    body = {"category": "heating", "description": "  No heat ", "unit": world.a.unit.id}
    created = client.post("/api/v1/repairs/", body, format="json")
    assert created.status_code == 201, created.data
    fetched = client.get(f"/api/v1/repairs/{created.data['id']}/")
    assert fetched.status_code == 200
    assert created.json() == fetched.json()
    assert created.json()["history"][0]["changed_by_name"]
