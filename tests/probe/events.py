"""Probe events: one type per test-only event, all with the probe consumers' fields.

Subscribed to the probe consumers by tests/messaging/conftest.py."""

from dataclasses import dataclass

from apps.messaging.contracts import Event, event_named

PROBE_EVENT_NAMES = (
    "probe.happened",
    "probe.slow",
    "probe.breakable",
    "probe.flaky",
    "probe.poison",
    "probe.repair",
    "probe.retried",
    "probe.slow_repair",
    "probe.db_blip",
    "probe.fail_slowly",
    "probe.done_then_lost",
)


@dataclass(frozen=True)
class ProbeEvent(Event):
    key: str
    label: str = ""
    seconds: float | None = None  # how long a slow probe works (None: its own default)
    retry_in: int = 60  # the delay of probe.transient_once's retry
    filler: str = ""  # bulk, for messages of a given size


PROBE_EVENTS = {
    name: event_named(f"Probe_{name[6:]}", ProbeEvent, name) for name in PROBE_EVENT_NAMES
}


def probe_event(name, data):
    """The probe event `name` with the fields `data`."""
    return PROBE_EVENTS[name](**data)
