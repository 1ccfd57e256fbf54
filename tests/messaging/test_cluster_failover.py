"""The same code against a three-node cluster by configuration only: CELERY_BROKER_URL
lists the nodes (`amqp://a;amqp://b;amqp://c`), and a relay and a worker whose node stops
carry on through another one (docs/SCALING.md).

Needs `make cluster` (three nodes on 5681-5683); skipped without it, and `make
cluster-test` (CLUSTER=1) starts the cluster and runs this module, where a missing
cluster fails instead. Marked `broker_restart`: it stops and starts a cluster node.
Only 5681-5683 are touched; the machine's usual node on 5672 is not.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings

from apps.messaging.broker import broker_connection, vhost_delete, vhost_ensure
from apps.messaging.publisher import publish
from apps.ops import health, selectors
from tests.conftest import wait_until
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect

pytestmark = [pytest.mark.broker, pytest.mark.broker_restart]

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "scripts" / "cluster.sh"
NODES = {n: f"127.0.0.1:{5680 + n}" for n in (1, 2, 3)}
MANAGEMENT = "http://guest:guest@127.0.0.1:15681"


def _cluster_running_nodes():
    done = subprocess.run(["bash", str(CLUSTER), "count"], capture_output=True, text=True)
    return int(done.stdout.strip() or 0) if done.returncode == 0 else 0


@pytest.fixture(scope="module")
def cluster():
    if not (ROOT / "var" / "cluster").is_dir() or _cluster_running_nodes() != 3:
        reason = "the local RabbitMQ cluster is not up: `make cluster` (or `make cluster-test`)"
        if os.environ.get("CLUSTER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _hosts(*order):
    """The failover list with the nodes in this order, as TEST_BROKER_HOSTS takes it."""
    return ";".join(NODES[n] for n in order)


def _url(*order):
    vhost = quote(settings.TEST_BROKER_VHOST, safe="")
    return ";".join(f"amqp://guest:guest@{NODES[n]}/{vhost}" for n in order)


def _api(path):
    response = requests.get(f"{MANAGEMENT}/api/{path}", timeout=10)
    response.raise_for_status()
    return response.json()


def _nodes_with_connections(vhost):
    return {row["node"] for row in _api("connections") if row["vhost"] == vhost}


def _manage(*args, order):
    """A `manage.py` command with the nodes (AMQP and management API) listed in `order`."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
            "TEST_BROKER_HOSTS": _hosts(*order),
            "RABBITMQ_MANAGEMENT_URL": ";".join(
                f"http://guest:guest@127.0.0.1:{15680 + n}" for n in order
            ),
        },
        capture_output=True,
        text=True,
        check=False,
    )


def queue_depth_and_consumers(name):
    with broker_connection() as broker:
        channel = broker.channel()
        _, messages, consumers = channel.queue_declare(queue=name, passive=True)
        channel.close()
    return messages, consumers


def _ctl(n, *args):
    subprocess.run(["bash", str(CLUSTER), "ctl", str(n), *args], check=True, capture_output=True)


@pytest.fixture
def cluster_vhost(cluster, transactional_db):
    """The suite's vhost on the cluster; this process's broker calls use the cluster."""
    vhost = settings.TEST_BROKER_VHOST
    with override_settings(CELERY_BROKER_URL=_url(1, 2, 3), RABBITMQ_MANAGEMENT_URL=MANAGEMENT):
        vhost_delete(vhost)
        vhost_ensure(vhost)
        yield vhost
        vhost_delete(vhost)


def test_relay_and_worker_fail_over_to_another_node_and_the_repair_gets_through(
    cluster_vhost, start_worker, start_relay
):
    # The topology through the project's own command, connected to rabbit-1 (first
    # listed): classic queues live on the node that declared them.
    declared = _manage("broker", "declare", order=(1, 2, 3))
    assert declared.returncode == 0, declared.stderr
    queue = _api(f"queues/{quote(cluster_vhost, safe='')}/repair_requests")
    assert queue["node"] == "rabbit-1@localhost"

    # The worker and the relay list the nodes from rabbit-2 (a deployment spreads its
    # processes by listing the nodes in another order per machine): both connect there
    # and reach the queue on rabbit-1 through the cluster.
    worker = start_worker(
        "repair_requests", env={"TEST_BROKER_HOSTS": _hosts(2, 3, 1)}, relay=False
    )
    relay = start_relay(TEST_BROKER_HOSTS=_hosts(2, 3, 1))
    with transaction.atomic():
        publish(probe_event("probe.repair", {"key": "before", "label": "normal"}))
    wait_until(lambda: ProbeEffect.objects.filter(key="before").exists(), 30)
    # (The API lists a connection within its statistics interval.)
    wait_until(lambda: "rabbit-2@localhost" in _nodes_with_connections(cluster_vhost), 30)

    # Their node goes; the queue's node (rabbit-1) stays, as a classic queue does not
    # survive its node (docs/SCALING.md).
    _ctl(2, "stop_app")
    try:
        wait_until(
            lambda: queue_depth_and_consumers("repair_requests")[1] == 1,
            60,
            message=f"the worker consuming again; its log:\n{worker.logs()}",
        )
        with transaction.atomic():
            publish(probe_event("probe.repair", {"key": "after", "label": "normal"}))
        wait_until(
            lambda: ProbeEffect.objects.filter(key="after").exists(),
            60,
            message=f"the repair through another node; relay log:\n{relay.logs()}",
        )
        assert "rabbit-2@localhost" not in _nodes_with_connections(cluster_vhost)
        # The web process's readiness checks and the operator's command, rabbit-2
        # first in their lists, answer from another node.
        with override_settings(CELERY_BROKER_URL=_url(2, 3, 1)):
            health.Broker().run()
            selectors.queue_status_cache_clear()
            counts = {row["name"]: row for row in selectors.queue_status_cached()}
            assert counts["repair_requests"]["consumers"] == 1
        status = _manage("broker", "status", "--json", order=(2, 3, 1))
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["queues"]
        assert ProbeEffect.objects.filter(key="before").count() == 1
        assert ProbeEffect.objects.filter(key="after").count() == 1
    finally:
        _ctl(2, "start_app")
        selectors.queue_status_cache_clear()
