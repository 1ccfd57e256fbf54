"""celeryconfig.py and the code agree: routes, subscriptions, registered tasks, events.

Pure checks of the configuration against the code (no broker): a consumer that is not
routed, a subscription to a task that does not exist, an event nobody declared, a task
that skips the base task's delivery policy, all fail here instead of in production.
"""

import ast
from pathlib import Path

import celeryconfig
import tests.probe.tasks  # noqa: F401 (the probe consumers, routed by tests/fixtures/probes.py)
from apps.messaging.contracts import event_types
from apps.reporting.facts import ASSET_EVENTS, EVENT_FACTS
from propmgmt.celery import app
from tasks.base import ConsumerTask

ROOT = Path(__file__).resolve().parents[2]
app.loader.import_default_modules()


def consumer_tasks():
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def subscribed_events(task_name):
    return {
        event for event, tasks in celeryconfig.EVENT_SUBSCRIPTIONS.items() if task_name in tasks
    }


def declared_event_types():
    """Every app's event types (apps/<app>/events.py), the retired ones left out."""
    return [t for t in event_types() if t.__module__.startswith("apps.") and not t.RETIRED]


def test_every_route_and_subscription_names_a_registered_task_on_a_declared_queue():
    registered = consumer_tasks()
    for task_name, queue in celeryconfig.TASK_QUEUES.items():
        assert task_name in registered, f"routed task {task_name} is not registered"
        assert queue in celeryconfig.WORK_QUEUE_NAMES, f"{task_name} routed to unknown {queue}"
    for event, subscribers in celeryconfig.EVENT_SUBSCRIPTIONS.items():
        for task_name in subscribers:
            assert task_name in celeryconfig.TASK_QUEUES, f"{event}: {task_name} not routed"


def test_every_registered_consumer_is_routed_and_has_the_base_delivery_policy():
    for name, task in consumer_tasks().items():
        assert name in celeryconfig.TASK_QUEUES, f"task {name} is registered but not routed"
        assert isinstance(task, ConsumerTask), f"task {name} does not use ConsumerTask"


def test_every_event_type_is_declared_and_every_declared_event_has_a_type():
    # publish() takes only typed events (tests/messaging/test_publish.py), so the types
    # are the events the apps can publish.
    types = {t.NAME for t in declared_event_types()}
    assert types, "no event types found"
    # Events declared with no subscriber are declared so on purpose (an empty list).
    declared = {e for e in celeryconfig.EVENT_SUBSCRIPTIONS if not e.startswith("probe.")}
    assert declared == types


def test_every_app_publishes_only_from_its_events_module():
    for path in sorted((ROOT / "apps").rglob("*.py")):
        if "migrations" in path.parts or path.name == "events.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            is_publish = isinstance(node, ast.Call) and getattr(node.func, "id", "") == "publish"
            assert not is_publish, f"{path.relative_to(ROOT)} calls publish()"


def test_only_the_messaging_layer_and_operations_read_the_topology():
    # Domain apps speak of events and urgency; ops reads the queues to report their health.
    importers = set()
    for path in (ROOT / "apps").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if "celeryconfig" in names:
                importers.add(path.relative_to(ROOT).parts[1])
    assert importers == {"messaging", "ops"}


def test_reporting_is_subscribed_to_exactly_the_events_it_reports():
    assert subscribed_events("reporting.record_event") == set(EVENT_FACTS)
    assert subscribed_events("reporting.record_asset_event") == set(ASSET_EVENTS)


def test_urgency_maps_to_priorities_the_priority_queues_accept():
    for queue, max_priority in celeryconfig.QUEUE_MAX_PRIORITY.items():
        assert queue in celeryconfig.WORK_QUEUE_NAMES
        assert max(celeryconfig.URGENCY_PRIORITY.values()) <= max_priority
    for urgency, priority in celeryconfig.URGENCY_PRIORITY.items():
        assert celeryconfig.urgency_for_priority(priority) == urgency
