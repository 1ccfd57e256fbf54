"""The broker topology and worker policy: the one source of truth.

Every exchange, dead-letter and delay queue, queue argument and policy is declared here;
the work queues, routes, event subscriptions and consumer modules are derived from the
declarations next to each consumer in tasks/ (apps/messaging/consumers.py). Nothing
creates a queue by accident: `task_create_missing_queues` is off, so a message for an
unknown queue is an error at the sender.
"""

from celery.schedules import crontab
from django.conf import settings
from kombu import Exchange, Queue

from apps.messaging.consumers import consumers

# --- exchanges ---------------------------------------------------------------------
WORK_EXCHANGE = Exchange("propmgmt.work", type="direct", durable=True, delivery_mode="persistent")
DEAD_LETTER_EXCHANGE = Exchange(
    "propmgmt.dead_letter", type="direct", durable=True, delivery_mode="persistent"
)
# Retries wait here, not in a worker: a headers exchange routes a retried message to the
# delay queue its RETRY_DELAY_HEADER names, keeping the routing key of its work queue.
DELAY_EXCHANGE = Exchange(
    "propmgmt.delay", type="headers", durable=True, delivery_mode="persistent"
)

# --- queue type --------------------------------------------------------------------
# BROKER_QUEUE_TYPE=quorum declares every work, dead-letter and delay queue as a quorum
# queue (Raft-replicated on a cluster; one member on a single node), and urgent work
# travels lanes of its own (below). BROKER_QUEUE_TYPE=classic (the default, for a single
# node; CI runs the queue-type-dependent tests on both, docs/MESSAGING.md) keeps classic
# queues with priorities.
# RabbitMQ refuses to redeclare a queue with another type: switching an installation
# over is a migration (docs/MESSAGING.md).
QUEUE_TYPE_QUORUM = "quorum"
QUEUE_TYPE_CLASSIC = "classic"
BROKER_QUEUE_TYPE = settings.BROKER_QUEUE_TYPE
if BROKER_QUEUE_TYPE not in (QUEUE_TYPE_QUORUM, QUEUE_TYPE_CLASSIC):
    raise ValueError(
        f"BROKER_QUEUE_TYPE must be {QUEUE_TYPE_QUORUM} or {QUEUE_TYPE_CLASSIC}, "
        f"not {BROKER_QUEUE_TYPE!r}"
    )
QUORUM = BROKER_QUEUE_TYPE == QUEUE_TYPE_QUORUM
# A quorum queue counts the deliveries of a message that came back unacknowledged (a lost
# worker, a closed channel, a requeue) and dead-letters it past this many: the broker's
# backstop for a message whose every worker dies before the base task can count it. The
# base task's own count (lost workers only, with the reason recorded) dead-letters first:
# settings.MESSAGE_MAX_REDELIVERIES is well below it.
QUORUM_DELIVERY_LIMIT = 20

# --- queues ------------------------------------------------------------------------
# Each consumer module in tasks/ declares its worker service, the queues it consumes and
# the events its tasks subscribe to (apps/messaging/consumers.py); the queues, routes,
# subscriptions and module list below are derived from them. `manage.py broker topology`
# prints the result.
CONSUMERS = consumers()
WORK_QUEUE_NAMES = CONSUMERS.queues

# Domain code speaks of urgency; routing maps it. Classic queues: to message priorities
# (only queues listed in QUEUE_MAX_PRIORITY honour them). Quorum queues have no
# priorities: urgent work for the queues of the services declared with priority=True
# goes to the queue's urgent lane (URGENT_LANES), which the same workers consume
# (apps.messaging.worker), so it never waits behind the queue's backlog. A consumer's own
# events inherit the urgency of the message it is handling, so an urgent repair's
# notifications are urgent too.
URGENCY_LOW = "low"
URGENCY_NORMAL = "normal"
URGENCY_URGENT = "urgent"
URGENCY_PRIORITY = {URGENCY_LOW: 1, URGENCY_NORMAL: 5, URGENCY_URGENT: 9}
MAX_PRIORITY = max(URGENCY_PRIORITY.values())
# The queues of the services declared with priority=True.
# The queues of the services declared with priority=True: their messages carry the
# priority of their urgency (in the outbox too), whatever the queue type.
PRIORITY_QUEUES = CONSUMERS.priority_queues
QUEUE_MAX_PRIORITY = {} if QUORUM else dict.fromkeys(PRIORITY_QUEUES, MAX_PRIORITY)
# Work queue -> its urgent lane (quorum queues only).
URGENT_LANES = {queue: f"{queue}.urgent" for queue in PRIORITY_QUEUES} if QUORUM else {}
LANE_QUEUES = {lane: queue for queue, lane in URGENT_LANES.items()}


def priority_for_urgency(urgency):
    """The message priority of a semantic urgency (None means normal)."""
    try:
        return URGENCY_PRIORITY[urgency or URGENCY_NORMAL]
    except KeyError:
        raise ValueError(
            f"unknown urgency {urgency!r}; known: {', '.join(URGENCY_PRIORITY)}"
        ) from None


def urgency_for_priority(priority):
    """The urgency a received message's priority stands for (the nearest level)."""
    if priority is None:
        return URGENCY_NORMAL
    return min(URGENCY_PRIORITY, key=lambda urgency: abs(URGENCY_PRIORITY[urgency] - priority))


def routing_key_for(queue, priority):
    """Where a message for work queue `queue` with `priority` is published: an urgent one
    for a queue with a lane goes to the lane, everything else to the queue."""
    if queue in URGENT_LANES and priority == URGENCY_PRIORITY[URGENCY_URGENT]:
        return URGENT_LANES[queue]
    return queue


def work_queue_of(queue):
    """The work queue a queue name stands for (a lane stands for its work queue)."""
    return LANE_QUEUES.get(queue, queue)


def dead_letter_queue_name(queue_name):
    return f"{queue_name}.dlq"


def _queue_type_arguments(dead_letters):
    """The arguments of the queue type; `dead_letters`: the queue dead-letters (a work
    queue or a delay queue), at least once with quorum queues: a message is removed only
    once its dead-letter queue (or, for a delay queue, its work queue) has confirmed it,
    so none is dropped between nodes. That strategy needs x-overflow reject-publish."""
    if not QUORUM:
        return {}
    arguments = {"x-queue-type": QUEUE_TYPE_QUORUM}
    if dead_letters:
        arguments |= {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
    return arguments


def _work_queue(name, dead_letters_to=None):
    """Work queue `name` (or an urgent lane, dead-lettering to its work queue's .dlq)."""
    arguments = {
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
        "x-dead-letter-routing-key": dead_letter_queue_name(dead_letters_to or name),
        **_queue_type_arguments(dead_letters=True),
    }
    if QUORUM:
        arguments["x-delivery-limit"] = QUORUM_DELIVERY_LIMIT
    if name in QUEUE_MAX_PRIORITY:
        arguments["x-max-priority"] = QUEUE_MAX_PRIORITY[name]
    return Queue(name, WORK_EXCHANGE, routing_key=name, durable=True, queue_arguments=arguments)


def _dead_letter_queue(name):
    dlq = dead_letter_queue_name(name)
    return Queue(
        dlq,
        DEAD_LETTER_EXCHANGE,
        routing_key=dlq,
        durable=True,
        queue_arguments=_queue_type_arguments(dead_letters=False) or None,
    )


WORK_QUEUES = tuple(_work_queue(name) for name in WORK_QUEUE_NAMES) + tuple(
    _work_queue(lane, dead_letters_to=queue) for queue, lane in URGENT_LANES.items()
)
DEAD_LETTER_QUEUES = tuple(_dead_letter_queue(name) for name in WORK_QUEUE_NAMES)

# --- retry delays ------------------------------------------------------------------
# A retry is published to the delay queue of its level; the queue's TTL expires it back
# to the work exchange with its original routing key (its work queue). One TTL per
# queue keeps expiry in order (RabbitMQ only expires messages at a queue's head). The
# base task picks the level nearest to its jittered backoff, so jitter still spreads
# retries over the levels. No consumer ever holds a waiting retry.
RETRY_DELAY_HEADER = "retry_delay"
RETRY_DELAY_LEVELS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)


def delay_queue_name(seconds):
    return f"propmgmt.delay.{seconds}s"


def retry_delay_level(seconds):
    """The delay level nearest to `seconds` (ties go to the longer one)."""
    return min(RETRY_DELAY_LEVELS, key=lambda level: (abs(level - seconds), -level))


def _delay_queue(seconds):
    return Queue(
        delay_queue_name(seconds),
        DELAY_EXCHANGE,
        durable=True,
        binding_arguments={"x-match": "all", RETRY_DELAY_HEADER: delay_queue_name(seconds)},
        queue_arguments={
            "x-message-ttl": seconds * 1000,
            "x-dead-letter-exchange": WORK_EXCHANGE.name,
            **_queue_type_arguments(dead_letters=True),
        },
    )


DELAY_QUEUES = tuple(_delay_queue(seconds) for seconds in RETRY_DELAY_LEVELS)
EXCHANGES = (WORK_EXCHANGE, DEAD_LETTER_EXCHANGE, DELAY_EXCHANGE)
# Bigger bodies are dead-lettered unread (our events carry ids, not documents).
MESSAGE_MAX_BYTES = 1024 * 1024

# --- routes and event subscriptions ------------------------------------------------
# Consumer task name -> queue, from each task's declaration (`@consumer.task`).
TASK_QUEUES = dict(CONSUMERS.routes)

# Event name -> consumer tasks, from each task's `subscribes=[...]`. A producer publishes
# an event; the outbox writes one message per subscriber. Adding a consumer to an event
# changes no producer.
# Events published but consumed by nobody yet are listed here on purpose (an unknown
# event is refused at the producer; tests/messaging/test_topology_consistency.py).
EVENTS_WITHOUT_CONSUMERS = ("visitor.expected", "visitor.departed")
EVENT_SUBSCRIPTIONS = {event: [] for event in EVENTS_WITHOUT_CONSUMERS} | {
    event: list(tasks) for event, tasks in CONSUMERS.subscriptions.items()
}

# --- Celery settings ---------------------------------------------------------------
broker_url = settings.CELERY_BROKER_URL
broker_connection_retry_on_startup = True
broker_connection_timeout = 4
broker_heartbeat = 30
# A channel error (say RabbitMQ's consumer_timeout closing the channel of a message held
# too long) restarts the worker's consumer like a lost connection, instead of stopping
# it; Celery applies this only while broker_connection_retry is on.
broker_connection_retry = True
broker_channel_error_retry = True
# Publisher confirms for every publish made through Celery; the outbox relay batches
# its own confirms (apps/messaging/publisher.py). py-amqp has no confirm timeout option
# (confirm_timeout is a per-publish argument): its socket read/write timeouts bound
# every blocking wait of Celery's own publishes (a task's retry, beat), confirms included.
broker_transport_options = {"confirm_publish": True, "read_timeout": 10, "write_timeout": 10}

task_queues = WORK_QUEUES
task_create_missing_queues = False
task_routes = {
    name: {"queue": queue, "exchange": WORK_EXCHANGE.name, "routing_key": queue}
    for name, queue in TASK_QUEUES.items()
}
# Anything unrouted goes nowhere useful by accident: the default queue is not declared.
task_default_queue = "unrouted"
task_default_exchange = WORK_EXCHANGE.name
task_default_delivery_mode = "persistent"

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
result_accept_content = ["json"]
task_ignore_result = True
result_backend = None

# A web request never waits long on the broker: bounded publish retries.
task_publish_retry = True
task_publish_retry_policy = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}

# Late acks: a message is acknowledged only once its work is done (or it is rejected).
task_acks_late = True
task_reject_on_worker_lost = True
# Celery 5.7 splits the old task_acks_on_failure_or_timeout in two (with late acks):
# - task_acks_on_failure off: a task that raises is rejected without requeue, so it
#   dead-letters (on, it would be acknowledged: dropped);
# - task_acks_on_timeout off: a task killed at the hard limit (task_time_limit) is
#   rejected *with* requeue, not dead-lettered (on, it would be dropped). Its pool process
#   is killed, so the worker's main process counts it as a lost worker
#   (apps.messaging.worker.ConsumerRequest) and the base task dead-letters it after
#   MESSAGE_MAX_REDELIVERIES. The soft limit raises SoftTimeLimitExceeded in the task,
#   which the base task retries or dead-letters.
task_acks_on_failure = False
task_acks_on_timeout = False
task_soft_time_limit = 240
task_time_limit = 300
task_track_started = True
task_send_sent_event = True

worker_prefetch_multiplier = 1
worker_send_task_events = True
worker_hijack_root_logger = False
# The development email/SMS backends print; that is information, not a warning.
worker_redirect_stdouts_level = "INFO"
worker_consumer = "apps.messaging.worker:DeadLetteringConsumer"
worker_max_tasks_per_child = 1000
# Read by Celery's Django fixup: close the database connection only every this many
# tasks, not after each one; apps.messaging.worker.database_connection_refresh applies
# CONN_MAX_AGE and the health check before every task instead.
CELERY_DB_REUSE_MAX = 1000

# The consumer modules of tasks/, as declared.
imports = tuple(CONSUMERS.modules)

beat_scheduler = "apps.core.beat:InstallOnceScheduler"
# Installed into the database scheduler at beat start when missing (an entry already
# there, edited or disabled in the admin, is left alone). Each run expires before the
# next one is due, so runs missed while workers were down never pile up.
beat_schedule = {
    "prune-messaging-records": {
        "task": "housekeeping.prune_messaging_records",
        "schedule": 6 * 60 * 60,
        "options": {"expires": 6 * 60 * 60 - 60},
    },
    "repair-sla-escalation": {
        "task": "scheduled.repair_sla_escalate",
        "schedule": 5 * 60,
        "options": {"expires": 5 * 60 - 10},
    },
    "repair-auto-close": {
        "task": "scheduled.repairs_auto_close",
        "schedule": crontab(minute=30),
        "options": {"expires": 60 * 60 - 60},
    },
    "visitor-overstay": {
        "task": "scheduled.visitors_overstay_report",
        "schedule": 15 * 60,
        "options": {"expires": 15 * 60 - 10},
    },
    # Every 15 minutes: each property's digest goes once its local time passes 07:00.
    "manager-digest": {
        "task": "scheduled.manager_digests_send",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 15 * 60 - 10},
    },
    # The front desk: days are kwargs, editable in the admin (Periodic tasks).
    "parcel-reminders": {
        "task": "front_desk.parcel_reminders_send",
        "schedule": crontab(hour=9, minute=0),
        "kwargs": {"days": 3},
        "options": {"expires": 23 * 60 * 60},
    },
    "parcel-return-lists": {
        "task": "front_desk.parcel_return_lists_send",
        "schedule": crontab(hour=8, minute=0),
        "kwargs": {"days": 14},
        "options": {"expires": 23 * 60 * 60},
    },
    # Move-ins and move-outs take effect as their dates come (idempotent; hourly, so the
    # day's moves follow soon after each property's midnight).
    "residency-moves": {
        "task": "scheduled.residency_moves_process",
        "schedule": crontab(minute=5),
        "options": {"expires": 60 * 60 - 60},
    },
    "nightly-report-reconciliation": {
        "task": "scheduled.reports_reconcile",
        "schedule": crontab(hour=2, minute=15),
        "options": {"expires": 23 * 60 * 60},
    },
}
timezone = settings.TIME_ZONE
enable_utc = True
