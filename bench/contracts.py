"""The cost of a message contract on the hot path: building and encoding one
repair.status_changed payload (what publish() does) and decoding and validating it
(what the base task does before the consumer runs), with the project's dataclass
contracts, msgspec and pydantic (their types built from the dataclass's fields).

`python -m bench.contracts`; msgspec and pydantic are not project dependencies, so
each library is timed only when installed (e.g. a scratch venv with both, run with
PYTHONPATH=.:.venv/lib/python3.11/site-packages). Prints microseconds per payload, best
of 5 runs of 20,000. Needs the settings (django.setup), not the database.
"""

import datetime
import json
import os
import timeit

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propmgmt.settings")
django.setup()

from apps.messaging.contracts import event_decode, event_encode, payload_fields  # noqa: E402
from apps.repairs.events import RepairStatusChanged  # noqa: E402

RUNS, NUMBER = 5, 20_000
NOW = datetime.datetime(2026, 12, 6, 12, 0, 0, 123456, tzinfo=datetime.UTC)
FIELDS = {
    "repair_id": 123456,
    "property_id": 12,
    "unit_id": 345,
    "resident_id": 6789,
    "category": "plumbing",
    "urgency": "urgent",
    "requested_at": NOW,
    "status": "resolved",
    "version": 5,
    "from_status": "in_progress",
    "changed_by_id": 42,
    "changed_at": NOW,
}


def dataclass_ways():
    def encode():
        event = RepairStatusChanged(**FIELDS)
        return json.dumps({"event": event.NAME, "version": 1, "data": event_encode(event)})

    body = encode()

    def decode():
        envelope = json.loads(body)
        envelope["occurred_at"] = "2026-12-06T12:00:00+00:00"
        return event_decode(envelope)

    return encode, decode


def msgspec_ways():
    import msgspec

    fields = [(name, annotation) for name, annotation, _ in payload_fields(RepairStatusChanged)]
    struct = msgspec.defstruct("RepairStatusChanged", fields, frozen=True)
    envelope = msgspec.defstruct("Envelope", [("event", str), ("version", int), ("data", struct)])
    json_encode, decoder = msgspec.json.encode, msgspec.json.Decoder(envelope)

    def encode():
        return json_encode(envelope("bench", 1, struct(**FIELDS)))

    body = encode()
    return encode, lambda: decoder.decode(body)


def pydantic_ways():
    import pydantic

    fields = {
        name: (annotation, ...) for name, annotation, _ in payload_fields(RepairStatusChanged)
    }
    config = pydantic.ConfigDict(frozen=True, strict=True)
    model = pydantic.create_model("RepairStatusChanged", __config__=config, **fields)
    envelope = pydantic.create_model(
        "Envelope", event=(str, ...), version=(int, ...), data=(model, ...)
    )

    def encode():
        return envelope(event="bench", version=1, data=model(**FIELDS)).model_dump_json()

    body = encode()
    return encode, lambda: envelope.model_validate_json(body)


def best_microseconds(function):
    return min(timeit.repeat(function, number=NUMBER, repeat=RUNS)) / NUMBER * 1e6


def main():
    for name, ways in [
        ("dataclass (project)", dataclass_ways),
        ("msgspec", msgspec_ways),
        ("pydantic", pydantic_ways),
    ]:
        try:
            encode, decode = ways()
        except ImportError:
            print(f"{name:20} not installed")
            continue
        print(
            f"{name:20} build+encode {best_microseconds(encode):6.1f} µs   "
            f"decode+validate {best_microseconds(decode):6.1f} µs"
        )


if __name__ == "__main__":
    main()
