"""Backup and restore, rehearsed (docs/OPERATIONS.md "Backup and restore"): the database
is the source of truth, so a backup is `pg_dump` plus the broker's definitions, and a
restore that lost every queue still delivers every accepted request's effects exactly
once. Real worker and relay processes; the commands an operator runs, as subprocesses."""

import subprocess
import sys
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection, transaction

from apps.messaging.broker import vhost_delete
from apps.messaging.models import OutboxMessage, ProcessedMessage
from apps.messaging.publisher import publish
from devtools.processes import ROOT, wait_until
from tests.conftest import queue_depth
from tests.fixtures.processes import process_env
from tests.probe.events import probe_event
from tests.probe.models import ProbeEffect

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def run(*command):
    result = subprocess.run(
        command, cwd=ROOT, env=process_env(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def manage(*args):
    return run(sys.executable, "manage.py", *args)


def accept(prefix, count):
    """`count` requests accepted: each commits its change with its outbox row."""
    keys = [f"{prefix}-{n}" for n in range(count)]
    for key in keys:
        with transaction.atomic():
            publish(probe_event("probe.happened", {"key": key}))
    return keys


def effects(keys):
    return Counter(ProbeEffect.objects.filter(key__in=keys).values_list("key", flat=True))


def test_restore_after_losing_database_and_queues_does_everything_once(
    clean_queues, start_worker, start_relay, tmp_path
):
    database_url = process_env()["DATABASE_URL"]
    dump, definitions = tmp_path / "database.dump", tmp_path / "definitions.json"

    # Traffic before the backup, in three states.
    worker = start_worker("reporting")
    done = accept("done", 20)  # consumed: effects and ledger rows in the backup
    wait_until(lambda: len(effects(done)) == 20, message="done consumed")
    worker.stop()
    queued = accept("queued", 20)  # published, waiting in the queue at the backup
    wait_until(lambda: queue_depth("reporting") == 20, message="queued published")
    worker.relay.stop()
    unpublished = accept("unpublished", 20)  # accepted, still in the outbox at the backup
    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 20

    # The backup.
    run("pg_dump", "--format=custom", f"--file={dump}", database_url)
    manage("broker", "export", f"--file={definitions}")

    # After it: the queued messages are consumed (effects the restore will not have), then
    # the broker's vhost and the database are lost.
    late_worker = start_worker("reporting", relay=False, wait=False).wait_ready()
    wait_until(lambda: len(effects(queued)) == 20, message="queued consumed after the backup")
    late_worker.stop()
    vhost_delete(settings.TEST_BROKER_VHOST)
    connection.close()
    run("psql", database_url, "-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    assert not _table_exists()  # the database is really gone

    # The restore, in the documented order.
    run("pg_restore", "--no-owner", f"--dbname={database_url}", str(dump))
    manage("broker", "import", f"--file={definitions}")
    assert queue_depth("reporting") == 0  # the queue is back (empty: its messages are lost)
    out = manage("outbox_republish", "--all-retained")
    assert out.startswith("40 outbox rows")  # done and queued; unpublished never were
    assert len(effects(done)) == 20 and not effects(queued) and not effects(unpublished)

    relay = start_relay()
    worker = start_worker("reporting", relay=False, wait=False).wait_ready()
    everything = done + queued + unpublished
    wait_until(lambda: len(effects(everything)) == 60, timeout=60, message="all effects")
    wait_until(lambda: not OutboxMessage.objects.filter(published_at__isnull=True).exists())
    wait_until(lambda: queue_depth("reporting") == 0, message="queue drained")
    worker.stop()
    relay.stop()
    assert set(effects(everything).values()) == {1}  # each once
    assert ProcessedMessage.objects.count() == 60
    # The done ones were published again and skipped by the ledger, not applied twice.
    assert worker.logs().count("duplicate message") == 20


def _table_exists():
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [ProbeEffect._meta.db_table])
        return cursor.fetchone()[0]
