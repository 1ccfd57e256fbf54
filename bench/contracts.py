"""The cost of a message contract on the hot path: building and encoding one
repair.status_changed payload (what publish() does) and decoding and validating it
(what the base task does before the consumer runs), with the project's dataclass
contracts, msgspec and pydantic.

`python -m bench.contracts`; msgspec and pydantic are not project dependencies, so
each library is timed only when installed (e.g. a scratch venv with both and
PYTHONPATH=. ). Prints microseconds per payload, best of 5 runs of 20,000.
Imports no Django: the contracts module is pure Python.
"""

import datetime
import json
import timeit
from dataclasses import dataclass

from apps.messaging.contracts import Event, event_decode, event_encode

RUNS, NUMBER = 5, 20_000
NOW = datetime.datetime(2026, 12, 6, 12, 0, 0, 123456, tzinfo=datetime.UTC)
FIELDS = {
    "repair_id": 123456, "property_id": 12, "unit_id": 345, "resident_id": 6789,
    "category": "plumbing", "urgency": "urgent", "requested_at": NOW, "status": "resolved",
    "version": 5, "from_status": "in_progress", "changed_by_id": 42, "changed_at": NOW,
}  # fmt: skip


@dataclass(frozen=True)
class BenchRepairStatusChanged(Event):
    NAME = "bench.repair_status_changed"
    repair_id: int
    property_id: int
    unit_id: int
    resident_id: int
    category: str
    urgency: str
    requested_at: datetime.datetime
    status: str
    version: int
    from_status: str
    changed_by_id: int | None
    changed_at: datetime.datetime


def dataclass_ways():
    def encode():
        event = BenchRepairStatusChanged(**FIELDS)
        return json.dumps({"event": event.NAME, "version": 1, "data": event_encode(event)})

    body = encode()

    def decode():
        envelope = json.loads(body)
        envelope["occurred_at"] = "2026-12-06T12:00:00+00:00"
        return event_decode(envelope)

    return encode, decode


def msgspec_ways():
    import msgspec

    class RepairStatusChanged(msgspec.Struct, frozen=True):
        repair_id: int
        property_id: int
        unit_id: int
        resident_id: int
        category: str
        urgency: str
        requested_at: datetime.datetime
        status: str
        version: int
        from_status: str
        changed_by_id: int | None
        changed_at: datetime.datetime

    class Envelope(msgspec.Struct):
        event: str
        version: int
        data: RepairStatusChanged

    json_encode, decoder = msgspec.json.encode, msgspec.json.Decoder(Envelope)

    def encode():
        return json_encode(Envelope("bench", 1, RepairStatusChanged(**FIELDS)))

    body = encode()
    return encode, lambda: decoder.decode(body)


def pydantic_ways():
    import pydantic

    class RepairStatusChanged(pydantic.BaseModel, frozen=True, strict=True):
        repair_id: int
        property_id: int
        unit_id: int
        resident_id: int
        category: str
        urgency: str
        requested_at: datetime.datetime
        status: str
        version: int
        from_status: str
        changed_by_id: int | None
        changed_at: datetime.datetime

    class Envelope(pydantic.BaseModel):
        event: str
        version: int
        data: RepairStatusChanged

    def encode():
        return Envelope(
            event="bench", version=1, data=RepairStatusChanged(**FIELDS)
        ).model_dump_json()

    body = encode()
    return encode, lambda: Envelope.model_validate_json(body)


def best_microseconds(function):
    return min(timeit.repeat(function, number=NUMBER, repeat=RUNS)) / NUMBER * 1e6


def main():
    for name, ways in [("dataclass (project)", dataclass_ways), ("msgspec", msgspec_ways),
                       ("pydantic", pydantic_ways)]:  # fmt: skip
        try:
            encode, decode = ways()
        except ImportError:
            print(f"{name:20} not installed")
            continue
        print(f"{name:20} build+encode {best_microseconds(encode):6.1f} µs   "
              f"decode+validate {best_microseconds(decode):6.1f} µs")  # fmt: skip


if __name__ == "__main__":
    main()
