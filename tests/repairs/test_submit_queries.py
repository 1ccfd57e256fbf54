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
# subscriber, COMMIT; the answer: visibility, the repair, its history with who changed it.
# It was 19 with the synchronous publish and the re-checks of loaded related objects.
MAX_QUERIES = 10


def test_a_repair_post_runs_at_most_ten_queries_and_one_outbox_insert(world):
    client = APIClient()
    _, key = api_token_issue(world.a.resident)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    body = {"category": "heating", "description": "No heat", "urgency": "urgent"}
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/repairs/", body, format="json")
    assert response.status_code == 201, response.data
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) <= MAX_QUERIES, "\n".join(statements)
    outbox_inserts = [sql for sql in statements if sql.startswith('INSERT INTO "messaging_outbox')]
    assert len(outbox_inserts) == 1
    assert OutboxMessage.objects.count() == 2  # both subscribers, in that one insert
