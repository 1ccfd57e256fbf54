"""Declaring the topology of celeryconfig.py on the broker, and reading its state."""

import contextlib
from urllib.parse import quote, urlsplit

import requests
from amqp.exceptions import PreconditionFailed
from django.conf import settings
from kombu import Connection, Queue
from kombu.exceptions import OperationalError

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


def connect_first_answering(connection, timeout):
    """Connect to the first broker of the connection's failover list that answers
    (CELERY_BROKER_URL may list a cluster's nodes, `amqp://a;amqp://b;amqp://c`), each
    tried once, in the list's order, at once after the one before failed, all within
    `timeout` seconds. kombu's own connect() makes two attempts, so a process that
    starts, or reconnects, while two of three listed nodes are gone would fail."""
    connection.ensure_connection(
        max_retries=max(len(connection.alt), 1) - 1,
        interval_start=0,
        interval_step=0,
        timeout=timeout,
        reraise_as_library_errors=False,
    )
    return connection


class UnroutableError(OperationalError):
    """A `mandatory` publish came back: no queue is bound for it (one was deleted)."""


@contextlib.contextmanager
def unroutable_raises(channel):
    """Raise UnroutableError after the block if a `mandatory` publish in it came back.

    RabbitMQ returns such a message (basic.return) and then confirms it. Without a
    handler, py-amqp raises at the return and leaves the confirm unread on the channel,
    where the next publish would take it for its own; this handler lets the confirm
    wait finish first."""
    returned = []

    def on_return(exc, exchange, routing_key, message):
        returned.append(f"{exc.reply_text} (exchange {exchange!r}, routing key {routing_key!r})")

    channel.events["basic_return"].add(on_return)
    try:
        yield
    finally:
        channel.events["basic_return"].discard(on_return)
    if returned:
        raise UnroutableError(f"returned by the broker: {returned[0]}")


class TopologyMismatchError(RuntimeError):
    """A queue exists on the broker with other arguments than celeryconfig.py declares."""


def topology_queues():
    return celeryconfig.WORK_QUEUES + celeryconfig.DEAD_LETTER_QUEUES + celeryconfig.DELAY_QUEUES


def topology_entities():
    """Every exchange, then every work, dead-letter and delay queue, in declare order."""
    return (*celeryconfig.EXCHANGES, *topology_queues())


def topology_declare(connection=None):
    """Declare every exchange, work queue, dead-letter queue and retry delay queue.

    Idempotent. A queue that exists with other arguments makes the broker answer
    PRECONDITION_FAILED; that raises TopologyMismatchError naming every such queue and
    the deliberate migration (`manage.py broker migrate`), never a silent redeclare.
    """
    own = connection is None
    connection = connection or broker_connection()
    channel = None
    try:
        channel = connection.channel()
        for exchange in celeryconfig.EXCHANGES:
            exchange(channel).declare()
        mismatched = []
        for queue in topology_queues():
            try:
                queue(channel).declare()
            except PreconditionFailed as exc:
                mismatched.append(f"{queue.name} ({exc.reply_text})")
                channel = connection.channel()  # the broker closed the one that failed
        if mismatched:
            raise TopologyMismatchError(
                "queues exist with other arguments than celeryconfig.py declares: "
                f"{'; '.join(mismatched)}. Stop their workers and run "
                "`manage.py broker migrate` (keeps their messages)."
            )
    finally:
        if channel is not None:
            with contextlib.suppress(Exception):
                channel.close()
        if own:
            connection.release()


def _wanted_arguments(queue):
    return queue.queue_arguments or {}


def topology_mismatches():
    """Names of declared queues that exist on the broker with other arguments (or
    whose migration was interrupted)."""
    return [
        row["name"]
        for row in queue_status()
        if row["migrating"] or (row["exists"] and row["arguments"] != row["wanted_arguments"])
    ]


def _holding_queue_name(name):
    return f"{name}.migrating"


def _routes_to(queue, routing_key, headers):
    """Whether a message with `routing_key` and `headers`, published to `queue`'s exchange,
    is routed by `queue`'s binding (direct: the routing key; headers: every header)."""
    if queue.exchange.type == "headers":
        wanted = {k: v for k, v in (queue.binding_arguments or {}).items() if k != "x-match"}
        return all(headers.get(k) == v for k, v in wanted.items())
    return routing_key == queue.routing_key


def _move_messages(channel, source, destination, queue):
    """Move every message of queue `source` to queue `destination` (`queue` or its holding
    queue, bound like it, the other one unbound), properties and routing key kept.

    The routing key matters: a message in a delay queue goes back, when its TTL expires,
    to the work queue its routing key names. So a message is published through `queue`'s
    exchange with its own routing key whenever `queue`'s binding routes it; anything else
    (a message that never came through that binding) through the default exchange.
    Each is acknowledged only after the broker confirmed its copy (and did not return
    it): a crash can duplicate a message (the idempotency ledger absorbs it) but never
    lose one.
    """
    moved = 0
    while True:
        message = channel.basic_get(source, no_ack=False)
        if message is None:
            return moved
        body = message.body.encode() if isinstance(message.body, str) else message.body
        properties = dict(message.properties)
        headers = properties.pop("application_headers", None)
        routing_key = (message.delivery_info or {}).get("routing_key")
        if _routes_to(queue, routing_key, headers or {}):
            exchange = queue.exchange.name
        else:
            exchange, routing_key = "", destination
        with unroutable_raises(channel):
            channel.basic_publish(
                channel.prepare_message(
                    body,
                    priority=properties.pop("priority", None),
                    content_type=properties.pop("content_type", None),
                    content_encoding=properties.pop("content_encoding", None),
                    headers=headers,
                    properties=properties,
                ),
                exchange=exchange,
                routing_key=routing_key,
                mandatory=True,
            )
        channel.basic_ack(message.delivery_tag)
        moved += 1


def queue_migrate(name):
    """Re-declare queue `name` with the arguments celeryconfig.py gives it, keeping its
    messages; return how many messages were carried over.

    RabbitMQ cannot change a queue's arguments, so: a holding queue takes the queue's
    bindings (new messages land there), the queue's messages move to it, the queue is
    deleted and declared anew, and everything moves back. Refused while a worker
    consumes the queue (its unacknowledged messages would be redelivered mid-move).
    Safe to run again after an interruption: it resumes from the holding queue.
    """
    queues = {queue.name: queue for queue in topology_queues()}
    if name not in queues:
        raise BrokerManagementError(f"unknown queue {name!r}")
    queue = queues[name]
    holding = _holding_queue_name(name)
    with broker_connection(confirm_publish=True) as connection:
        channel = connection.channel()
        current = next(row for row in queue_status() if row["name"] == name)
        rebuild = current["exists"] and current["arguments"] != current["wanted_arguments"]
        if rebuild:
            _, _, consumers = channel.queue_declare(name, passive=True)
            if consumers:
                raise BrokerManagementError(f"{name} has {consumers} consumers; stop them first")
        wanted = queue.bind(channel)
        parked = Queue(
            holding,
            queue.exchange,
            routing_key=queue.routing_key,
            durable=True,
            binding_arguments=queue.binding_arguments,
        )(channel)
        parked.declare()  # bound like the queue: publishes during the move land here
        carried = 0
        if rebuild:
            channel.queue_unbind(
                name,
                queue.exchange.name,
                queue.routing_key or "",
                arguments=queue.binding_arguments,
            )
            carried = _move_messages(channel, name, holding, queue)
            channel.queue_delete(name, if_empty=True)
            # A fresh channel for the new queue: RabbitMQ 3.10's channel keeps the state
            # of the deleted queue of the same name, and publishing to a quorum queue
            # that replaced a classic one through it crashes the channel.
            channel.close()
            channel = connection.channel()
            wanted, parked = queue.bind(channel), parked.bind(channel)
        wanted.declare()
        parked.unbind_from(
            queue.exchange, routing_key=queue.routing_key, arguments=queue.binding_arguments
        )
        _move_messages(channel, holding, name, queue)
        channel.queue_delete(holding, if_empty=True)
        channel.close()
    return carried


def virtual_host(url=None):
    return broker_connection(url).virtual_host or "/"


def _management_urls():
    """RABBITMQ_MANAGEMENT_URL, or a cluster's nodes as a `;`-separated failover list
    like CELERY_BROKER_URL's (any node's API answers for the whole cluster)."""
    return [url.strip() for url in settings.RABBITMQ_MANAGEMENT_URL.split(";") if url.strip()]


def _management(path, method="GET", **kwargs):
    unreachable = []
    for url in _management_urls():
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}"
        auth = (parts.username or "guest", parts.password or "guest")
        try:
            response = requests.request(
                method, f"{base}/api/{path}", auth=auth, timeout=5, **kwargs
            )
            break
        except requests.RequestException as exc:
            unreachable.append(f"{base}: {exc}")
    else:
        raise BrokerManagementError(
            f"RabbitMQ management API not reachable at {'; '.join(unreachable)}; "
            "enable it with `rabbitmq-plugins enable rabbitmq_management`"
        )
    if response.status_code >= 400:
        raise BrokerManagementError(f"{method} /api/{path}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def queue_status():
    """Each declared queue with its depth, consumers, arguments and the arguments
    celeryconfig.py wants (missing ones say so)."""
    vhost = quote(virtual_host(), safe="")
    existing = {q["name"]: q for q in _management(f"queues/{vhost}")}
    rows = []
    for queue in topology_queues():
        found = existing.get(queue.name)
        rows.append(
            {
                "name": queue.name,
                "exists": found is not None,
                "messages": found.get("messages", 0) if found else None,
                "consumers": found.get("consumers", 0) if found else None,
                "arguments": found["arguments"] if found else _wanted_arguments(queue),
                "wanted_arguments": _wanted_arguments(queue),
                # A migration that was interrupted left its holding queue behind.
                "migrating": _holding_queue_name(queue.name) in existing,
                "durable": found["durable"] if found else queue.durable,
            }
        )
    return rows


def definitions_export():
    """This vhost's definitions (exchanges, queues with their arguments, bindings,
    policies) from the management API: what a backup keeps of the broker."""
    return _management(f"definitions/{quote(virtual_host(), safe='')}")


def definitions_import(definitions):
    """Load exported definitions into this vhost, creating it if it was lost."""
    vhost_ensure(virtual_host())
    _management(f"definitions/{quote(virtual_host(), safe='')}", method="POST", json=definitions)


def vhost_ensure(name):
    """Create a vhost (idempotently) and give the management user full rights on it."""
    user = urlsplit(_management_urls()[0]).username or "guest"
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
