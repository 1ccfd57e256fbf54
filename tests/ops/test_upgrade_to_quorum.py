"""An installation on classic queues moved to quorum queues with `manage.py broker migrate`
(docs/OPERATIONS.md "Upgrading"), with a backlog in every kind of queue: messages waiting
in the work queues, dead letters in the `.dlq` queues and retries waiting in the delay
queues. Every message is then processed once, the dead letters after a replay with the
existing command. Real broker, real workers and relays, the real commands.

Each side runs in its own processes with its own BROKER_QUEUE_TYPE on a vhost of its own,
so this test does the same whichever type the suite runs on.
"""

import subprocess
import sys
from collections import Counter
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

import celeryconfig
from apps.messaging.broker import _management, broker_connection, vhost_delete, vhost_ensure
from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import publish
from devtools.processes import ROOT
from tests.conftest import wait_until
from tests.fixtures.processes import RELAY_LISTENING, process_env, relay_start
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect, ProbeSwitch

pytestmark = [pytest.mark.broker, pytest.mark.slow]

# Long enough to wait through stopping the old workers and the whole migration.
RETRY_IN = 60
DELAY_QUEUE = celeryconfig.delay_queue_name(RETRY_IN)
N = 5  # messages of each kind


@pytest.fixture
def old_vhost(broker_vhost):
    name = f"{settings.TEST_BROKER_VHOST}_upgrade"
    vhost_delete(name)
    vhost_ensure(name)
    url = f"amqp://guest:guest@127.0.0.1:5672/{quote(name, safe='')}"
    relays = []
    with override_settings(CELERY_BROKER_URL=url):
        yield name, relays
    for relay in relays:
        relay.kill()
    vhost_delete(name)


def on(vhost, queue_type):
    """The environment of a process of the installation: its vhost, its queue type."""
    return {"TEST_BROKER_VHOST": vhost, "BROKER_QUEUE_TYPE": queue_type}


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=process_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def queue_types(vhost):
    """{name: type} of the vhost's queues, from the management API."""
    return {
        q["name"]: q["arguments"].get("x-queue-type", "classic")
        for q in _management(f"queues/{quote(vhost, safe='')}")
    }


def depth(queue):
    with broker_connection() as connection:
        channel = connection.channel()
        _, messages, _ = channel.queue_declare(queue=queue, passive=True)
        channel.close()
    return messages


def committed(event, data, urgency=None):
    from django.db import transaction

    with transaction.atomic():
        return publish(probe_event(event, data), urgency=urgency)


def test_classic_backlog_with_dead_letters_and_waiting_retries_moves_to_quorum_each_once(
    old_vhost, start_worker
):
    vhost, relays = old_vhost
    classic, quorum = on(vhost, "classic"), on(vhost, "quorum")

    # The old installation, on classic queues: its topology, relay and workers.
    manage(classic, "broker", "declare")
    relays.append(relay_start("relay-upgrade-classic", **classic))
    relays[-1].wait_logged(RELAY_LISTENING)
    old = start_worker("complaints", "repair_requests", env=classic, relay=False)
    # Dead letters: a consumer broken until a fix is deployed.
    breakable = [committed("probe.breakable", {"key": f"dead-{i}"}) for i in range(N)]
    # Retries waiting in a delay queue: each first attempt failed transiently.
    retried = [
        committed("probe.retried", {"key": f"retry-{i}", "retry_in": RETRY_IN}) for i in range(N)
    ]
    wait_until(lambda: depth("complaints.dlq") == N, timeout=60, message="dead letters")
    wait_until(lambda: depth(DELAY_QUEUE) == N, timeout=60, message="retries waiting")
    wait_until(
        lambda: old.logs().count("acknowledged; its retry waits") == N,
        message="the first attempts acknowledged",
    )
    old.stop()  # a warm shutdown, as the upgrade procedure stops workers
    # A backlog in the work queues, urgent repairs included, nobody consuming.
    waiting = [committed("probe.happened", {"key": f"work-{i}"}) for i in range(N)]
    waiting += [
        committed("probe.repair", {"key": f"repair-{i}"}, urgency="urgent" if i % 2 else None)
        for i in range(N)
    ]
    wait_until(lambda: depth("reporting") == N and depth("repair_requests") == N, timeout=30)
    relays.pop().stop()
    assert set(queue_types(vhost).values()) == {"classic"}
    assert depth(DELAY_QUEUE) == N and depth("complaints.dlq") == N

    # The upgrade: the new code with BROKER_QUEUE_TYPE=quorum, workers stopped.
    out = manage(quorum, "broker", "migrate")
    assert f"{DELAY_QUEUE}: migrated, {N} messages kept" in out, out
    assert f"complaints.dlq: migrated, {N} messages kept" in out, out
    assert f"reporting: migrated, {N} messages kept" in out, out
    after = queue_types(vhost)
    assert set(after.values()) == {"quorum"}, after
    assert not [name for name in after if name.endswith(".migrating")]
    assert depth(DELAY_QUEUE) == N and depth("complaints.dlq") == N
    assert depth("reporting") == N and depth("repair_requests") == N

    # The new installation on quorum queues: its relay and workers.
    relays.append(relay_start("relay-upgrade-quorum", **quorum))
    relays[-1].wait_logged(RELAY_LISTENING)
    start_worker("complaints", "repair_requests", "reporting", env=quorum, relay=False)
    # The fix is deployed; the dead letters (moved with the queue) are replayed.
    ProbeSwitch.objects.create(name="fixed", on=True)
    replayed = manage(quorum, "deadletters", "replay", "--queue", "complaints", "--all")
    assert f"replayed {N} dead letter(s)" in replayed, replayed
    moved_at = timezone.now()

    keys = [f"dead-{i}" for i in range(N)] + [f"retry-{i}" for i in range(N)]
    keys += [f"work-{i}" for i in range(N)] + [f"repair-{i}" for i in range(N)]

    def missing():
        return set(keys) - set(ProbeEffect.objects.values_list("key", flat=True))

    try:
        wait_until(lambda: not missing(), timeout=RETRY_IN + 60, message="all processed")
    except AssertionError:
        waiting = {name: n for name in after if (n := depth(name))}
        raise AssertionError(f"not processed: {sorted(missing())}; queues: {waiting}") from None
    effects = list(ProbeEffect.objects.filter(key__in=keys))
    # Each once, by its own message id; the retries as their retry, after their delay.
    assert Counter(e.key for e in effects) == dict.fromkeys(keys, 1)
    ids = {str(row.id) for rows in [*breakable, *retried, *waiting] for row in rows}
    assert {e.message_id for e in effects} == ids
    assert {e.priority for e in effects if e.key.startswith("retry-")} == {"retry1"}
    assert all(e.created_at >= moved_at for e in effects if e.key.startswith("retry-"))
    assert not OutboxMessage.objects.filter(published_at__isnull=True).exists()
    assert {name: n for name in after if (n := depth(name))} == {}
