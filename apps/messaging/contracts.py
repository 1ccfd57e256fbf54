"""Message contracts: every event is a small frozen dataclass with a name and a version.

Producers (apps/<app>/events.py) build one and hand it to `publish()`; the envelope
carries `event`, `version`, `occurred_at` and the encoded fields in `data`. The base
task (tasks/base.py) decodes the envelope back into the type with `event_decode`
before the consumer runs, so a consumer reads attributes, never string keys. A payload
that does not match its type (a missing field, a wrong type, an unknown event or
version) raises `EventContractError` naming the field, and the base task dead-letters
the message without retrying it (a retry would fail the same way).

An envelope without `version` was written before contracts existed: it is decoded as
version 1, which is the shape every event had then.

Plain dataclasses and a small codec per field type, built once per event type, no
library: bench/contracts.py measured them against msgspec and pydantic
(docs/BENCHMARKS.md, "Message contracts"). The table of events in docs/MESSAGING.md
is `event_table`'s output.
"""

import dataclasses
import datetime
import decimal
import types
import typing

# Envelopes from before contracts carry no version: they have today's version-1 shape.
UNVERSIONED = 1


class EventContractError(ValueError):
    """A payload does not match its event's type; `field` names the part that failed."""

    def __init__(self, event, version, field, problem):
        self.field = field
        super().__init__(f"event {event!r} v{version}: field {field!r}: {problem}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """The base of every event type. A subclass that sets `NAME` (and `VERSION`, 1 by
    default) is registered by them; one without is a base for several events.
    `occurred_at` comes from the envelope, not from `data`. `RETIRED`: no longer
    published, still read from what the queues hold."""

    NAME: typing.ClassVar[str]
    VERSION: typing.ClassVar[int] = 1
    RETIRED: typing.ClassVar[bool] = False
    occurred_at: datetime.datetime | None = dataclasses.field(default=None, compare=False)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "NAME" not in cls.__dict__:
            return
        key = (cls.NAME, cls.VERSION)
        if key in _REGISTRY:
            raise TypeError(f"event {cls.NAME!r} v{cls.VERSION} is declared twice")
        _REGISTRY[key] = cls


def event_named(class_name, base, name):
    """An event type that is `base` under another name: for a family of events with
    the same fields (an asset created, updated, retired)."""
    namespace = {"NAME": name, "__module__": base.__module__, "__qualname__": class_name}
    return dataclasses.dataclass(frozen=True)(type(class_name, (base,), namespace))


_REGISTRY = {}  # (name, version) -> Event subclass
_ENVELOPE_FIELDS = frozenset({"occurred_at"})


def event_types():
    """Every declared event type, by name then version."""
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]


class _Mismatch(Exception):
    pass


def _parse_datetime(value):
    moment = datetime.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _expect(kinds, label):
    """A check that a value is one of `kinds`, never a bool unless asked (bool is an
    int in Python, never in a contract)."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    allow_bool = bool in kinds

    exact = frozenset(kinds)

    def check(value):
        if type(value) in exact:  # the common case, checked first
            return value
        if not isinstance(value, kinds) or (isinstance(value, bool) and not allow_bool):
            raise _Mismatch(f"expected {label}, got {type(value).__name__}")
        return value

    return check


def _parsed(kinds, label, parse):
    check = _expect(kinds, label)

    def decode(value):
        try:
            return parse(check(value))
        except (ValueError, decimal.InvalidOperation) as exc:
            raise _Mismatch(f"not a {label}: {value!r:.40}") from exc

    return decode


def _codec(annotation):
    """(encode, decode) of one field type: a Python value -> its JSON form, and a JSON
    value -> the Python value; both raise _Mismatch for a value of another type."""
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        [inner] = [a for a in typing.get_args(annotation) if a is not type(None)]
        encode, decode = _codec(inner)
        return (
            lambda value: None if value is None else encode(value),
            lambda value: None if value is None else decode(value),
        )
    if origin is list:
        encode, decode = _codec(typing.get_args(annotation)[0])
        check = _expect((list, tuple), "a list")
        return (
            lambda value: [encode(item) for item in check(value)],
            lambda value: [decode(item) for item in _expect(list, "a list")(value)],
        )
    if annotation is datetime.datetime:
        check = _expect(datetime.datetime, "datetime")
        return (lambda v: check(v).isoformat()), _parsed(str, "datetime", _parse_datetime)
    if annotation is datetime.date:
        check = _expect(datetime.date, "date")
        return (lambda v: check(v).isoformat()), _parsed(str, "date", datetime.date.fromisoformat)
    if annotation is decimal.Decimal:
        check = _expect(decimal.Decimal, "Decimal")
        parse = _parsed((str, int), "Decimal", lambda v: decimal.Decimal(str(v)))
        return (lambda v: str(check(v))), parse
    if annotation is float:
        check = _expect((int, float), "float")
        return check, lambda v: float(check(v))
    check = _expect(annotation, annotation.__name__)  # int, str, bool
    return check, check


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    annotation: object
    default: object  # dataclasses.MISSING: required
    encode: typing.Callable
    decode: typing.Callable


def _fields(event_type):
    """The payload's fields with their codecs, built once per type."""
    cached = event_type.__dict__.get("_contract_fields")
    if cached is None:
        hints = typing.get_type_hints(event_type)
        cached = []
        for f in dataclasses.fields(event_type):
            if f.name not in _ENVELOPE_FIELDS:
                cached.append(_Field(f.name, hints[f.name], f.default, *_codec(hints[f.name])))
        event_type._contract_fields = cached
    return cached


def payload_fields(event_type):
    """[(field name, type, has a default)] of the payload, in declaration order."""
    return [
        (f.name, f.annotation, f.default is not dataclasses.MISSING) for f in _fields(event_type)
    ]


def event_encode(event):
    """The JSON-ready `data` of an event, each field checked against its type, so that
    what is stored is what the consumer will decode; EventContractError if one does not
    match."""
    if not isinstance(event, Event):
        raise TypeError(f"publish() takes an Event, not {type(event).__name__}")
    data = {}
    for field in _fields(type(event)):
        value = getattr(event, field.name)
        # An optional field at its default is left out: the payload every consumer
        # (and an older release's, during a rolling deploy) has always read.
        if field.default is not dataclasses.MISSING and value == field.default:
            continue
        try:
            data[field.name] = field.encode(value)
        except _Mismatch as exc:
            raise EventContractError(event.NAME, event.VERSION, field.name, exc) from None
    return data


def _checked(event_type, data):
    """{field: decoded value} of `data`; EventContractError naming the first field
    that is missing or of the wrong type. Fields the type does not know are ignored (a
    newer producer may add some)."""
    values = {}
    for field in _fields(event_type):
        if field.name not in data:
            if field.default is dataclasses.MISSING:
                raise EventContractError(event_type.NAME, event_type.VERSION, field.name, "missing")
            continue
        try:
            values[field.name] = field.decode(data[field.name])
        except _Mismatch as exc:
            raise EventContractError(event_type.NAME, event_type.VERSION, field.name, exc) from None
    return values


def event_decode(envelope):
    """The typed event an envelope carries; EventContractError when it does not match."""
    if not isinstance(envelope, dict):
        raise EventContractError("?", "?", "envelope", f"not an object: {envelope!r:.80}")
    name = envelope.get("event")
    version = envelope.get("version", UNVERSIONED)
    event_type = _REGISTRY.get((name, version))
    if event_type is None:
        known = sorted(v for (n, v) in _REGISTRY if n == name)
        problem = f"unknown version (known: {known})" if known else "unknown event"
        raise EventContractError(name, version, "event" if not known else "version", problem)
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise EventContractError(name, version, "data", "not an object")
    try:
        occurred_at = _parse_datetime(envelope["occurred_at"])
    except (KeyError, TypeError, ValueError):
        raise EventContractError(name, version, "occurred_at", "missing or not a time") from None
    return event_type(**_checked(event_type, data), occurred_at=occurred_at)


# --- the table in docs/MESSAGING.md ----------------------------------------------------
def _type_name(annotation):
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        return " \\| ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is list:
        return f"list[{_type_name(typing.get_args(annotation)[0])}]"
    return "null" if annotation is type(None) else annotation.__name__


def event_table(subscriptions):
    """The Markdown table of every event: version, producer (the module declaring the
    type), consumers (`subscriptions`: event name -> task names) and fields."""
    lines = [
        "| event | version | producer | consumers | fields |",
        "|---|---|---|---|---|",
    ]
    for event_type in event_types():
        if not event_type.__module__.startswith("apps."):
            continue  # test probes
        fields = ", ".join(
            f"`{name}`: {_type_name(annotation)}{' (optional)' if has_default else ''}"
            for name, annotation, has_default in payload_fields(event_type)
        )
        consumers = ", ".join(f"`{task}`" for task in subscriptions.get(event_type.NAME, []))
        producer = event_type.__module__.removesuffix(".events")
        lines.append(
            f"| `{event_type.NAME}` | {event_type.VERSION} | `{producer}` | "
            f"{consumers or '—'} | {fields} |"
        )
    return "\n".join(lines) + "\n"
