"""Declaring the topology of celeryconfig.py on the broker, and reading its state."""

from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from kombu import Connection

import celeryconfig


class BrokerManagementError(RuntimeError):
    pass


def broker_connection(url=None, *, confirm_publish=False):
    """A connection for tools (dead letters, status, tests) whose every socket read and
    write, the confirm wait included, ends within BROKER_PUBLISH_TIMEOUT."""
    timeout = settings.BROKER_PUBLISH_TIMEOUT
    options = {"read_timeout": timeout, "write_timeout": timeout}
    if confirm_publish:
        options["confirm_publish"] = True
    return Connection(
        url or settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options
    )


def topology_entities():
    """Both exchanges, every work queue and every dead-letter queue, in declare order."""
    return (
        celeryconfig.WORK_EXCHANGE,
        celeryconfig.DEAD_LETTER_EXCHANGE,
        *celeryconfig.WORK_QUEUES,
        *celeryconfig.DEAD_LETTER_QUEUES,
    )


def topology_declare(connection=None):
    """Declare both exchanges, every work queue and every dead-letter queue.

    Idempotent. A queue that exists with other arguments makes the broker answer
    PRECONDITION_FAILED: that needs a deliberate migration, never a silent redeclare.
    """
    own = connection is None
    connection = connection or broker_connection()
    try:
        channel = connection.default_channel
        for entity in topology_entities():
            entity(channel).declare()
    finally:
        if own:
            connection.release()


def virtual_host(url=None):
    return broker_connection(url).virtual_host or "/"


def _management(path, method="GET", **kwargs):
    parts = urlsplit(settings.RABBITMQ_MANAGEMENT_URL)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}"
    auth = (parts.username or "guest", parts.password or "guest")
    try:
        response = requests.request(method, f"{base}/api/{path}", auth=auth, timeout=5, **kwargs)
    except requests.RequestException as exc:
        raise BrokerManagementError(
            f"RabbitMQ management API not reachable at {base}: {exc}; "
            "enable it with `rabbitmq-plugins enable rabbitmq_management`"
        ) from exc
    if response.status_code >= 400:
        raise BrokerManagementError(f"{method} /api/{path}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def queue_status():
    """Each declared queue with its depth, consumers and arguments (missing ones say so)."""
    vhost = quote(virtual_host(), safe="")
    existing = {q["name"]: q for q in _management(f"queues/{vhost}")}
    rows = []
    for queue in celeryconfig.WORK_QUEUES + celeryconfig.DEAD_LETTER_QUEUES:
        found = existing.get(queue.name)
        rows.append(
            {
                "name": queue.name,
                "exists": found is not None,
                "messages": found.get("messages", 0) if found else None,
                "consumers": found.get("consumers", 0) if found else None,
                "arguments": found["arguments"] if found else queue.queue_arguments or {},
                "durable": found["durable"] if found else queue.durable,
            }
        )
    return rows


def vhost_ensure(name):
    """Create a vhost (idempotently) and give the management user full rights on it."""
    user = urlsplit(settings.RABBITMQ_MANAGEMENT_URL).username or "guest"
    vhost = quote(name, safe="")
    _management(f"vhosts/{vhost}", method="PUT", json={})
    _management(
        f"permissions/{vhost}/{quote(user, safe='')}",
        method="PUT",
        json={"configure": ".*", "write": ".*", "read": ".*"},
    )


def vhost_delete(name):
    try:
        _management(f"vhosts/{quote(name, safe='')}", method="DELETE")
    except BrokerManagementError as exc:
        if " 404 " not in str(exc):
            raise
