"""What follows one piece of work through every message it causes: the correlation id
(in every message and log line) and the urgency of the message being consumed.

Every log record gets `correlation_id`, `task_name`, `message_id` and `queue` (filled
with "-" where they do not apply), from, in order:
1. the context set here (a request, a management command, a worker callback);
2. the task a worker's pool process is executing (Celery's request stack, which is still
   in place when Celery logs "succeeded", "retry" or "raised");
3. a message the worker's main process has just received (its "received" line names the
   message id only, so the id is looked up among recently received messages).
"""

import collections
import contextlib
import contextvars
import logging
import re
import threading
import uuid

from celery.worker.request import Request

_correlation_id = contextvars.ContextVar("correlation_id", default=None)
_urgency = contextvars.ContextVar("urgency", default=None)
_message = contextvars.ContextVar("message", default=None)

# The header that carries the correlation id on every task message.
CORRELATION_HEADER = "x_correlation_id"

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


@contextlib.contextmanager
def correlation(correlation_id, *, message=None):
    """Log (and publish) as part of `correlation_id`, about `message` if given:
    a dict with task_name, message_id and queue."""
    token = _correlation_id.set(correlation_id)
    message_token = _message.set(message)
    try:
        yield
    finally:
        _message.reset(message_token)
        _correlation_id.reset(token)


class _RecentMessages:
    """The last few thousand messages a worker's main process received, by id."""

    size = 5000

    def __init__(self):
        self._items = collections.OrderedDict()
        self._lock = threading.Lock()

    def remember(self, message_id, fields):
        with self._lock:
            self._items[message_id] = fields
            if len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, message_id):
        return self._items.get(message_id)


_recent = _RecentMessages()


def _request_fields(request):
    """(correlation id, message fields) of a Celery task request (a Context)."""
    delivery_info = getattr(request, "delivery_info", None) or {}
    fields = {
        "task_name": getattr(request, "task", None) or "-",
        "message_id": request.id,
        "queue": delivery_info.get("routing_key") or "-",
    }
    return request.get(CORRELATION_HEADER) or request.id, fields


def _executing_task():
    from celery import current_task

    task = current_task._get_current_object()
    if task is None or task.request.id is None:
        return None
    return _request_fields(task.request)


def _received_message(record):
    context = record.args if isinstance(record.args, dict) else getattr(record, "data", None)
    if isinstance(context, dict) and "id" in context:
        return _recent.get(context["id"])
    return None


class CorrelationIdFilter(logging.Filter):
    """Puts correlation_id, task_name, message_id and queue on every record."""

    def filter(self, record):
        correlation_id, message = _correlation_id.get(), _message.get()
        if correlation_id is None or message is None:
            found = _executing_task() or _received_message(record)
            if found:
                correlation_id = correlation_id or found[0]
                message = message or found[1]
        record.correlation_id = correlation_id or "-"
        for field in ("task_name", "message_id", "queue"):
            setattr(record, field, (message or {}).get(field, "-"))
        return True


class CorrelatedRequest(Request):
    """A worker's view of a received message that logs under its correlation id.

    The worker's main process logs "received", a lost worker, a time limit or a retry
    after a lost worker outside any task code: without this, those lines carry no id.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        correlation_id = self._request_dict.get(CORRELATION_HEADER) or self.id
        self._log_fields = {
            "task_name": self.name,
            "message_id": self.id,
            "queue": (self.delivery_info or {}).get("routing_key") or "-",
        }
        self._correlation_id = correlation_id
        _recent.remember(self.id, (correlation_id, self._log_fields))

    def on_failure(self, *args, **kwargs):
        with correlation(self._correlation_id, message=self._log_fields):
            return super().on_failure(*args, **kwargs)

    def on_timeout(self, *args, **kwargs):
        with correlation(self._correlation_id, message=self._log_fields):
            return super().on_timeout(*args, **kwargs)

    def on_retry(self, *args, **kwargs):
        with correlation(self._correlation_id, message=self._log_fields):
            return super().on_retry(*args, **kwargs)


def _event_summary(body):
    """'event key=id ...' of a task message's event envelope: the ids only, never content
    (messages carry ids and plain JSON; free text may be personal)."""
    try:
        envelope = body[0][0]
        ids = " ".join(
            f"{key}={value}"
            for key, value in sorted(envelope["data"].items())
            if key.endswith("_id") and isinstance(value, (int, str))
        )
        return f"{envelope['event']} {ids}".strip()
    except (TypeError, KeyError, IndexError):
        return ""


def log_published(sender=None, body=None, headers=None, routing_key=None, **_):
    """after_task_publish: one line per message sent, under the message's correlation id
    (the relay publishes rows of many requests in one batch)."""
    published = logging.getLogger("apps.messaging.published")
    if not published.isEnabledFor(logging.INFO):
        return  # LOG_PUBLISHED_LEVEL=WARNING: no summary or correlation scope to build
    headers = headers or {}
    message_id = headers.get("id")
    correlation_id = headers.get(CORRELATION_HEADER) or message_id
    fields = {"task_name": sender or "-", "message_id": message_id, "queue": routing_key}
    with correlation(correlation_id, message=fields):
        published.info(
            "published %s[%s] to %s: %s", sender, message_id, routing_key, _event_summary(body)
        )
