"""The broker topology and worker policy: the one source of truth.

Every exchange, queue, dead-letter queue, route and event subscription is declared here
and nowhere else. Nothing creates a queue by accident: `task_create_missing_queues` is
off, so a message for an unknown queue is an error at the sender.
"""

from celery.schedules import crontab
from django.conf import settings
from kombu import Exchange, Queue

# --- exchanges ---------------------------------------------------------------------
WORK_EXCHANGE = Exchange("propmgmt.work", type="direct", durable=True, delivery_mode="persistent")
DEAD_LETTER_EXCHANGE = Exchange(
    "propmgmt.dead_letter", type="direct", durable=True, delivery_mode="persistent"
)

# --- queues ------------------------------------------------------------------------
USER_REGISTRATION = "user_registration"
ASSET_MANAGEMENT = "asset_management"
VISITOR_MANAGEMENT = "visitor_management"
REPAIR_REQUESTS = "repair_requests"
COMPLAINTS = "complaints"
REPORTING = "reporting"
NOTIFICATIONS = "notifications"

WORK_QUEUE_NAMES = (
    USER_REGISTRATION,
    ASSET_MANAGEMENT,
    VISITOR_MANAGEMENT,
    REPAIR_REQUESTS,
    COMPLAINTS,
    REPORTING,
    NOTIFICATIONS,
)

# Message priorities (only queues listed in QUEUE_MAX_PRIORITY honour them).
PRIORITY_LOW = 1
PRIORITY_NORMAL = 5
PRIORITY_URGENT = 9
QUEUE_MAX_PRIORITY = {REPAIR_REQUESTS: PRIORITY_URGENT}


def dead_letter_queue_name(queue_name):
    return f"{queue_name}.dlq"


def _work_queue(name):
    arguments = {
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
        "x-dead-letter-routing-key": dead_letter_queue_name(name),
    }
    if name in QUEUE_MAX_PRIORITY:
        arguments["x-max-priority"] = QUEUE_MAX_PRIORITY[name]
    return Queue(name, WORK_EXCHANGE, routing_key=name, durable=True, queue_arguments=arguments)


def _dead_letter_queue(name):
    dlq = dead_letter_queue_name(name)
    return Queue(dlq, DEAD_LETTER_EXCHANGE, routing_key=dlq, durable=True)


WORK_QUEUES = tuple(_work_queue(name) for name in WORK_QUEUE_NAMES)
DEAD_LETTER_QUEUES = tuple(_dead_letter_queue(name) for name in WORK_QUEUE_NAMES)

# --- routes: consumer task name -> queue -----------------------------------------
TASK_QUEUES = {
    "email.send_registration_confirmation": USER_REGISTRATION,
    "email.send_account_exists_notice": USER_REGISTRATION,
    "reporting.record_asset_event": ASSET_MANAGEMENT,
    "security.notify_visitor_arrived": VISITOR_MANAGEMENT,
    "maintenance.notify_repair_requested": REPAIR_REQUESTS,
    "maintenance.notify_repair_status_changed": REPAIR_REQUESTS,
    "customer_service.notify_complaint_filed": COMPLAINTS,
    "customer_service.notify_complaint_updated": COMPLAINTS,
    "reporting.record_event": REPORTING,
    "notifications.deliver": NOTIFICATIONS,
    # Periodic housekeeping runs on the reporting worker pool.
    "housekeeping.prune_messaging_records": REPORTING,
    "scheduled.repair_sla_escalate": REPORTING,
    "scheduled.repairs_auto_close": REPORTING,
    "scheduled.visitors_overstay_report": REPORTING,
    "scheduled.manager_digests_send": REPORTING,
    "scheduled.reports_reconcile": REPORTING,
}

# --- event subscriptions: event name -> consumer tasks ---------------------------
# A producer publishes an event; the outbox writes one message per subscriber here.
# Adding a consumer to an event changes no producer.
EVENT_SUBSCRIPTIONS = {
    "user.registered": ["email.send_registration_confirmation", "reporting.record_event"],
    "user.registration_repeated": ["email.send_account_exists_notice"],
    "asset.created": ["reporting.record_asset_event"],
    "asset.updated": ["reporting.record_asset_event"],
    "asset.retired": ["reporting.record_asset_event"],
    "visitor.expected": ["reporting.record_event"],
    "visitor.arrived": ["security.notify_visitor_arrived", "reporting.record_event"],
    "visitor.departed": ["reporting.record_event"],
    "repair.requested": ["maintenance.notify_repair_requested", "reporting.record_event"],
    "repair.status_changed": [
        "maintenance.notify_repair_status_changed",
        "reporting.record_event",
    ],
    "complaint.filed": ["customer_service.notify_complaint_filed", "reporting.record_event"],
    "complaint.updated": ["customer_service.notify_complaint_updated", "reporting.record_event"],
    "complaint.rated": ["reporting.record_event"],
    "notification.requested": ["notifications.deliver"],
}

# --- Celery settings ---------------------------------------------------------------
broker_url = settings.CELERY_BROKER_URL
broker_connection_retry_on_startup = True
broker_connection_timeout = 4
broker_heartbeat = 30
# Publisher confirms for every publish made through Celery; the outbox relay batches
# its own confirms (apps/messaging/publisher.py).
broker_transport_options = {"confirm_publish": True, "confirm_timeout": 5}

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
# Failures are rejected (so they dead-letter), never acked; timeouts too (the base task
# caps its own time with a soft limit and rejects without requeue).
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

imports = (
    "tasks.email",
    "tasks.security",
    "tasks.maintenance",
    "tasks.customer_service",
    "tasks.reporting",
    "tasks.notifications",
    "tasks.housekeeping",
    "tasks.scheduled",
)

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
    "nightly-report-reconciliation": {
        "task": "scheduled.reports_reconcile",
        "schedule": crontab(hour=2, minute=15),
        "options": {"expires": 23 * 60 * 60},
    },
}
timezone = settings.TIME_ZONE
enable_utc = True
