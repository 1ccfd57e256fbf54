"""The Prometheus endpoints and Flower, started as `make run` starts them (Procfile),
scraped after real traffic through real workers."""

import pytest
import requests
from django.db import transaction
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from apps.messaging.publisher import publish
from tests.conftest import wait_until
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect

pytestmark = pytest.mark.broker

FLOWER_AUTH = ("ops", "a-flower-test-passphrase")


def samples(text):
    """{(sample name, frozenset of labels): value} of a Prometheus exposition."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped, name, **labels):
    matches = [v for (n, lbls), v in scraped.items() if n == name and set(labels.items()) <= lbls]
    return sum(matches) if matches else None


def traffic():
    """Two messages consumed, one retried until dead-lettered, one dead-lettered at once."""
    with transaction.atomic():
        publish(probe_event("probe.happened", {"key": "m1"}))
        publish(probe_event("probe.happened", {"key": "m2"}))
        publish(probe_event("probe.flaky", {"key": "f"}))
        publish(probe_event("probe.breakable", {"key": "b"}))


def test_metrics_after_traffic(clean_queues, start_worker, start_service, settings):
    worker = start_worker("reporting", "notifications", "complaints")
    flower = start_service("flower", path="/healthcheck", FLOWER_BASIC_AUTH=":".join(FLOWER_AUTH))
    web = start_service("web", path="/healthz/")

    def web_scrape():
        return samples(requests.get(web.url("/metrics"), timeout=5).text)

    def front_door_answered(scraped):
        name = "django_http_responses_total_by_status_view_method_total"
        return value(scraped, name, view="front-door", status="200") or 0

    assert front_door_answered(web_scrape()) == 0
    for _ in range(3):
        assert requests.get(web.url("/"), timeout=5).status_code == 200
    assert requests.get(web.url("/api/v1/auth/me/"), timeout=5).status_code == 401
    traffic()
    wait_until(lambda: ProbeEffect.objects.filter(key__in=["m1", "m2"]).count() == 2)
    wait_until(lambda: worker.logs().count("probe.flaky") >= 3 and "probe.fail" in worker.logs())

    def dead_lettered(s):
        return value(s, "propmgmt_queue_dead_letters", queue="notifications")

    scraped = wait_until(
        lambda: dead_lettered(s := web_scrape()) and s, timeout=40, message="dead letters"
    )
    # Web requests by view and status, added up over both gunicorn workers.
    assert front_door_answered(scraped) == 3
    assert (
        value(scraped, "django_http_responses_total_by_status_view_method_total", status="401") == 1
    )
    assert (
        value(
            scraped, "django_http_requests_latency_seconds_by_view_method_count", view="front-door"
        )
        == 3
    )
    # Queues: depth, consumers, dead letters.
    assert value(scraped, "propmgmt_broker_up") == 1
    assert value(scraped, "propmgmt_queue_consumers", queue="reporting") == 1
    assert value(scraped, "propmgmt_queue_consumers", queue="repair_requests") == 0
    assert value(scraped, "propmgmt_queue_messages", queue="reporting") == 0
    assert value(scraped, "propmgmt_queue_dead_letters", queue="complaints") == 1
    assert value(scraped, "propmgmt_queue_dead_letters", queue="notifications") == 1
    # Outbox: everything published.
    assert value(scraped, "propmgmt_outbox_unpublished") == 0
    assert value(scraped, "propmgmt_outbox_oldest_unpublished_age_seconds") == 0
    assert value(scraped, "propmgmt_outbox_parked") == 0
    assert value(scraped, "propmgmt_consumer_dead_lettered", consumer="probe.flaky") == 1

    # Per task: Flower's /metrics, from the workers' events.
    def flower_scrape():
        return samples(requests.get(flower.url("/metrics"), auth=FLOWER_AUTH, timeout=5).text)

    def events(scraped, task, kind):
        return value(scraped, "flower_events_total", task=task, type=kind) or 0

    tasks = wait_until(
        lambda: (s := flower_scrape()) and events(s, "probe.flaky", "task-failed") and s,
        timeout=30,
        message="Flower saw the failure",
    )
    assert events(tasks, "probe.record", "task-succeeded") == 2
    assert events(tasks, "probe.record", "task-received") == 2
    assert events(tasks, "probe.flaky", "task-retried") == 2
    assert events(tasks, "probe.fail_unless_fixed", "task-failed") == 1
    assert value(tasks, "flower_task_runtime_seconds_count", task="probe.record") == 2
    assert value(tasks, "flower_worker_online") >= 1


def test_flower_keeps_the_last_max_tasks_and_counts_every_one(
    clean_queues, start_worker, start_service
):
    # Flower keeps the last FLOWER_MAX_TASKS tasks (Procfile: 10,000) so that its memory
    # stays flat under a backlog. Its counters count every task: by name for the events
    # that carry it (task-received); a later event of a task already dropped from the list
    # is counted under no name, which takes more tasks in flight than the cap.
    start_worker("reporting")
    flower = start_service(
        "flower", path="/healthcheck", FLOWER_BASIC_AUTH=":".join(FLOWER_AUTH), FLOWER_MAX_TASKS="2"
    )
    with transaction.atomic():
        for key in ("c1", "c2", "c3", "c4", "c5"):
            publish(probe_event("probe.happened", {"key": key}))
    wait_until(lambda: ProbeEffect.objects.filter(key__startswith="c").count() == 5)

    def received():
        scraped = samples(requests.get(flower.url("/metrics"), auth=FLOWER_AUTH, timeout=5).text)
        return value(scraped, "flower_events_total", task="probe.record", type="task-received")

    wait_until(lambda: received() == 5, timeout=30, message="Flower counted 5 received")
    listed = requests.get(flower.url("/api/tasks"), auth=FLOWER_AUTH, timeout=5).json()
    assert 1 <= len(listed) <= 2


@pytest.mark.django_db
def test_metrics_only_from_localhost_or_with_the_token(settings):
    settings.METRICS_TOKEN = "s3cret"
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 403
    assert (
        Client(REMOTE_ADDR="10.1.2.3")
        .get("/metrics", headers={"Authorization": "Bearer wrong"})
        .status_code
        == 403
    )
    assert (
        Client(REMOTE_ADDR="10.1.2.3")
        .get("/metrics", headers={"Authorization": "Bearer s3cret"})
        .status_code
        == 200
    )
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200


def test_flower_refuses_strangers_and_shows_workers_and_queues(
    clean_queues, start_worker, start_service
):
    worker = start_worker("reporting", "complaints")
    flower = start_service("flower", path="/healthcheck", FLOWER_BASIC_AUTH=":".join(FLOWER_AUTH))
    assert requests.get(flower.url("/"), timeout=5).status_code == 401
    assert requests.get(flower.url("/api/workers"), timeout=5).status_code == 401
    assert requests.get(flower.url("/"), auth=("admin", "wrong"), timeout=5).status_code == 401

    def listed_workers():
        url = flower.url("/api/workers?refresh=1")
        return requests.get(url, auth=FLOWER_AUTH, timeout=10).json()

    workers = wait_until(listed_workers, timeout=30, message="Flower lists the worker")
    assert any(name.startswith(worker.name) for name in workers), workers
    with transaction.atomic():
        publish(
            probe_event("probe.breakable", {"key": "q"})
        )  # dead-lettered: complaints.dlq has one

    def lengths():
        response = requests.get(flower.url("/api/queues/length"), auth=FLOWER_AUTH, timeout=10)
        return {q["name"]: q["messages"] for q in response.json()["active_queues"]}

    def drained():
        # Flower reads the management API, whose counts lag the broker by a few seconds:
        # the probe can still show in `complaints` just after it was published.
        queues = lengths()
        return queues.get("reporting") == 0 and queues.get("complaints") == 0

    wait_until(drained, timeout=30, message="Flower's lengths of the drained work queues")
