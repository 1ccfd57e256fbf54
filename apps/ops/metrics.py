"""The Prometheus exposition of the web process.

- web requests: django-prometheus (counts and latency by view, method and status); with
  several gunicorn workers, PROMETHEUS_MULTIPROC_DIR makes them add up (prometheus_client
  multiprocess mode);
- per queue: depth, consumers and dead letters, from the broker (cached briefly); the
  urgent lanes (quorum queues) with their depth and consumers;
- the outbox: unpublished rows, the age of the oldest, parked rows;
- per consumer: messages it dead-lettered (failure records kept in the database).

Per task successes, retries, failures and durations come from Flower's /metrics: Flower
reads the workers' events from the broker, so it sees every worker on every machine
without a port or a shared directory per worker (docs/ALERTS.md).
"""

import os

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

import celeryconfig
from apps.messaging.selectors import outbox_stats
from apps.ops import selectors


class MessagingCollector:
    def collect(self):
        yield from self._queues()
        yield from self._outbox()

    def _queues(self):
        up = GaugeMetricFamily("propmgmt_broker_up", "1 when the broker answered for its queues")
        try:
            rows = selectors.queue_status_cached()
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "propmgmt_queue_messages", "Messages ready for delivery", labels=["queue"]
        )
        consumers = GaugeMetricFamily(
            "propmgmt_queue_consumers", "Consumers attached", labels=["queue"]
        )
        dead = GaugeMetricFamily(
            "propmgmt_queue_dead_letters",
            "Messages in the work queue's dead-letter queue",
            labels=["queue"],
        )
        by_name = {row["name"]: row for row in rows}
        for name in celeryconfig.WORK_QUEUE_NAMES:
            dlq = by_name.get(celeryconfig.dead_letter_queue_name(name)) or {}
            dead.add_metric([name], dlq.get("messages") or 0)
        # An urgent lane (quorum queues: `<queue>.urgent`) is a queue of its own: its
        # depth and consumers too (it dead-letters into its work queue's .dlq, above).
        for name in selectors.work_queue_and_lane_names():
            row = by_name.get(name) or {}
            depth.add_metric([name], row.get("messages") or 0)
            consumers.add_metric([name], row.get("consumers") or 0)
        yield from (depth, consumers, dead)

    def _outbox(self):
        backlog = outbox_stats()
        failures = selectors.message_failures_by_consumer()
        yield GaugeMetricFamily(
            "propmgmt_outbox_unpublished",
            "Due outbox rows not yet published",
            value=backlog["unpublished"],
        )
        yield GaugeMetricFamily(
            "propmgmt_outbox_oldest_unpublished_age_seconds",
            "Age of the oldest due unpublished outbox row (0 when none)",
            value=backlog["oldest_unpublished_age"],
        )
        yield GaugeMetricFamily(
            "propmgmt_outbox_parked",
            "Outbox rows parked after repeated failures",
            value=backlog["parked"],
        )
        dead = GaugeMetricFamily(
            "propmgmt_consumer_dead_lettered",
            "Messages a consumer dead-lettered (failure records still kept)",
            labels=["consumer"],
        )
        for consumer, count in sorted(failures.items()):
            dead.add_metric([consumer], count)
        yield dead


_messaging = CollectorRegistry(auto_describe=False)
_messaging.register(MessagingCollector())


def exposition():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        web = CollectorRegistry()
        MultiProcessCollector(web)
    else:
        web = REGISTRY
    return generate_latest(web) + generate_latest(_messaging)
