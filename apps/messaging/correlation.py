"""What follows one piece of work through every message it causes: the correlation id
(in every log line) and the urgency of the message being consumed."""

import contextvars
import logging
import re
import uuid

_correlation_id = contextvars.ContextVar("correlation_id", default=None)
_urgency = contextvars.ContextVar("urgency", default=None)

# Accept a caller's X-Request-ID only if it is a sane token; otherwise make our own.
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")


def new_correlation_id():
    return uuid.uuid4().hex


def clean_correlation_id(value):
    return value if value and _VALID.match(value) else new_correlation_id()


def get_correlation_id():
    return _correlation_id.get()


def set_correlation_id(value):
    return _correlation_id.set(value)


def reset_correlation_id(token):
    _correlation_id.reset(token)


def get_urgency():
    return _urgency.get()


def set_urgency(value):
    return _urgency.set(value)


def reset_urgency(token):
    _urgency.reset(token)


def current_or_new_correlation_id():
    return get_correlation_id() or new_correlation_id()


class CorrelationIdFilter(logging.Filter):
    def filter(self, record):
        record.correlation_id = get_correlation_id() or "-"
        return True
