"""What one message costs each consumer of a repair's journey in SQL statements, counted
(deterministic, not timed; docs/BENCHMARKS.md "Where the CPU of one repair goes"), as the
POST's budget is (tests/repairs/test_submit_queries.py). Each consumer runs in process
as its worker runs it — the base task's hold, ledger row and transaction included — on
the outbox payload the service wrote. BEGIN and COMMIT count: each is a round trip.

Before issue 27 a repair's consumers ran 64 statements: maintenance 21, reporting 11,
in-app delivery 16, email delivery 16."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.messaging.models import DeliveryAttempt, OutboxMessage, ProcessedMessage
from apps.notifications.models import Notification
from apps.repairs.services import repair_request_submit, repair_transition
from propmgmt.celery import app

pytestmark = pytest.mark.django_db(transaction=True)
app.loader.import_default_modules()

# The hold (one autocommitted upsert); BEGIN, ledger row, the repair with its unit and
# property, the maintenance staff, their preferences for both channels (in-app, email: it
# was one query per channel), the in-app notification created delivered and its history,
# the email notification, its history and its delivery message, COMMIT.
MAINTENANCE_REQUESTED = 12
# The hold; BEGIN, ledger row, the repair, its resident's preference, the in-app notice
# created delivered and its history, COMMIT.
MAINTENANCE_STATUS_CHANGED = 9
# The hold; BEGIN, ledger row, the applied-event row, the property's time zone, COMMIT.
# (The two counter upserts go through psycopg's execute_values, which this count does not
# see: 8 + 2.)
REPORTING = 6
# The hold; seen in the ledger?; the batch's channels; BEGIN, lock, attempt, its
# history, COMMIT; BEGIN, sent, its history, COMMIT; the ledger row.
EMAIL_BATCH = 13


def consume(task_name, row):
    """Run the consumer `task_name` on the outbox `row` as a worker does; its statements."""
    task = app.tasks[task_name]
    task.push_request(
        id=str(row.id),
        retries=0,
        delivery_info={"redelivered": False, "routing_key": row.queue, "priority": 0},
        headers={},
    )
    try:
        with CaptureQueriesContext(connection) as queries:
            task(row.payload[0])
    finally:
        task.pop_request()
    return [q["sql"] for q in queries.captured_queries]


def rows(event):
    return {row.task_name: row for row in OutboxMessage.objects.filter(event=event)}


def budget(statements, most):
    assert len(statements) <= most, f"{len(statements)} statements:\n" + "\n".join(statements)


@pytest.fixture
def repair(world):
    return repair_request_submit(
        resident=world.a.resident, category="heating", description="No heat", urgency="normal"
    )


def test_each_consumer_of_a_new_repair_keeps_its_statement_budget(repair):
    requested = rows("repair.requested")
    assert set(requested) == {"maintenance.notify_repair_requested", "reporting.record_event"}
    budget(
        consume(
            "maintenance.notify_repair_requested",
            requested.pop("maintenance.notify_repair_requested"),
        ),
        MAINTENANCE_REQUESTED,
    )
    budget(consume("reporting.record_event", requested.pop("reporting.record_event")), REPORTING)
    # The in-app notice needed no message: it was delivered by its creation.
    assert not rows("notification.in_app_batch_requested")
    [email] = rows("notification.email_batch_requested").values()
    budget(consume(email.task_name, email), EMAIL_BATCH)
    assert sorted(Notification.objects.values_list("channel", "status")) == [
        ("email", "sent"),
        ("in_app", "sent"),
    ]
    assert ProcessedMessage.objects.count() == 3
    # Every copy still held its message until its work was done (the lost-worker count).
    assert DeliveryAttempt.objects.filter(holding=True).count() == 3


def test_the_status_change_consumer_keeps_its_statement_budget(repair, world):
    repair_transition(repair=repair, to_status="acknowledged", user=world.a.staff["maintenance"])
    [changed] = [
        row
        for row in OutboxMessage.objects.filter(event="repair.status_changed")
        if row.task_name == "maintenance.notify_repair_status_changed"
    ]
    budget(consume(changed.task_name, changed), MAINTENANCE_STATUS_CHANGED)
    notice = Notification.objects.get(user=world.a.resident)
    assert (notice.channel, notice.status) == ("in_app", "sent")


def test_the_hold_is_one_statement_committed_without_waiting_for_the_flush():
    """One autocommitted upsert per message start (it was BEGIN, SET LOCAL, the upsert and
    COMMIT); synchronous_commit is off for its own transaction only."""
    from apps.messaging.services import delivery_attempt_hold

    message_id = str(uuid.uuid4())
    with CaptureQueriesContext(connection) as queries:
        assert delivery_attempt_hold(message_id, "probe", redelivered=False) == 0
    [statement] = [q["sql"] for q in queries.captured_queries]
    assert "set_config('synchronous_commit', 'off', true)" in statement
    assert DeliveryAttempt.objects.get(message_id=message_id).holding
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('synchronous_commit')")
        assert cursor.fetchone()[0] == "on"
