"""Message contracts: a consumer gets its typed event; a payload that does not match is
dead-lettered at once naming the field; envelopes from before contracts (no version)
are read as version 1; docs/MESSAGING.md's event table is the one the types give."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

import celeryconfig
from apps.assets.events import AssetUpdated
from apps.messaging.contracts import EventContractError, event_decode, event_encode, event_table
from apps.messaging.generated import MESSAGING_DOC, messaging_doc_text
from apps.messaging.models import MessageFailure, OutboxMessage
from apps.messaging.procfile import GeneratedFileError
from apps.messaging.publisher import publish
from apps.reporting.models import DailyPropertyStat
from tests.conftest import queue_depth, wait_until
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect

AT = "2026-11-20T10:00:00+00:00"

# A repair.requested envelope exactly as the code before contracts wrote it: no version.
OLD_REPAIR_REQUESTED = {
    "event": "repair.requested",
    "occurred_at": AT,
    "data": {
        "repair_id": 41,
        "property_id": 8,
        "unit_id": 3,
        "resident_id": 4,
        "category": "heating",
        "urgency": "urgent",
        "requested_at": AT,
        "status": "submitted",
        "version": 1,
    },
}
DATA = OLD_REPAIR_REQUESTED["data"]


def outbox_row(envelope, task_name, queue):
    """An outbox row as any release could have left it (the relay publishes it as is)."""
    return OutboxMessage.objects.create(
        event=envelope.get("event", ""),
        task_name=task_name,
        queue=queue,
        payload=[envelope],
        correlation_id="contracts",
    )


def test_the_event_table_in_messaging_md_is_the_one_the_types_give():
    # `broker generate --check` (test_consumer_declarations.py) fails on a stale table;
    # here: a stale one is rewritten to the types' table, the rest of the file kept.
    committed = MESSAGING_DOC.read_text()
    table = event_table(celeryconfig.EVENT_SUBSCRIPTIONS)
    assert table in committed and "`repair.requested` | 1 |" in table
    stale = committed.replace(table, table.replace("`repair.requested` | 1 |", "`repair.x` | 7 |"))
    assert stale != committed
    assert messaging_doc_text(stale) == committed


def test_an_event_table_without_its_markers_is_refused():
    with pytest.raises(GeneratedFileError, match="event table"):
        messaging_doc_text("# Messaging\n\nno table here\n")


def test_an_envelope_without_a_version_is_read_as_version_1_of_todays_shape():
    event = event_decode(OLD_REPAIR_REQUESTED)
    assert type(event).__name__ == "RepairRequested" and event.VERSION == 1
    assert event.repair_id == 41 and event.urgency == "urgent"
    assert event.requested_at == datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC)


def test_decoding_gives_back_what_was_encoded():
    asset = AssetUpdated(
        asset_id=1,
        property_id=2,
        category="lift",
        condition="good",
        cost=Decimal("10.50"),
        status="active",
        warranty_end=datetime.date(2027, 1, 31),
        version=3,
    )
    envelope = {"event": asset.NAME, "version": 1, "occurred_at": AT, "data": event_encode(asset)}
    assert envelope["data"]["cost"] == "10.50" and envelope["data"]["warranty_end"] == "2027-01-31"
    assert event_decode(envelope) == asset


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"data": {**DATA, "repair_id": None}}, "repair_id", "expected int"),
        ({"data": {k: v for k, v in DATA.items() if k != "unit_id"}}, "unit_id", "missing"),
        ({"data": {**DATA, "requested_at": "yesterday"}}, "requested_at", "not a datetime"),
        ({"data": {**DATA, "version": True}}, "version", "expected int"),
        ({"version": 7}, "version", "unknown version"),
        ({"event": "repair.exploded"}, "event", "unknown event"),
        ({"data": ["not", "an", "object"]}, "data", "not an object"),
        ({"occurred_at": None}, "occurred_at", "missing"),
    ],
)
def test_a_payload_that_does_not_match_names_the_field(change, field, problem):
    with pytest.raises(EventContractError) as raised:
        event_decode({**OLD_REPAIR_REQUESTED, **change})
    assert raised.value.field == field and problem in str(raised.value)


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_worker_reads_old_shapes_and_dead_letters_bad_payloads_naming_the_field(
    clean_queues, start_worker
):
    start_worker("reporting")
    old = outbox_row(OLD_REPAIR_REQUESTED, "reporting.record_event", "reporting")
    bad_type = outbox_row(
        {"event": "probe.happened", "occurred_at": AT, "data": {"key": 5}},
        "probe.record",
        "reporting",
    )
    missing = outbox_row(
        {
            "event": "repair.requested",
            "version": 1,
            "occurred_at": AT,
            "data": {k: v for k, v in DATA.items() if k != "property_id"},
        },
        "reporting.record_event",
        "reporting",
    )
    unknown_version = outbox_row(
        {**OLD_REPAIR_REQUESTED, "version": 2}, "reporting.record_event", "reporting"
    )
    wait_until(lambda: queue_depth("reporting.dlq") == 3, timeout=30, message="3 dead letters")
    # The old shape was counted as a repair requested.
    [stat] = DailyPropertyStat.objects.filter(property_id=8)
    assert (stat.metric, stat.category, stat.urgency, stat.count) == (
        "repairs_opened",
        "heating",
        "urgent",
        1,
    )
    reasons = {failure.message_id: failure for failure in MessageFailure.objects.all()}
    assert str(old.id) not in reasons
    for row, words in [
        (bad_type, "field 'key': expected str, got int"),
        (missing, "field 'property_id': missing"),
        (unknown_version, "field 'version': unknown version"),
    ]:
        failure = reasons[str(row.id)]
        assert words in failure.reason and "EventContractError" in failure.reason
        assert failure.attempts == 1  # dead-lettered at once, never retried
    # The worker goes on serving well-formed messages.
    with transaction.atomic():
        publish(probe_event("probe.happened", {"key": "after-bad-payloads"}))
    wait_until(lambda: ProbeEffect.objects.filter(key="after-bad-payloads").exists())
