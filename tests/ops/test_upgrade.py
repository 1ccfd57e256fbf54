"""An upgrade, rehearsed (docs/OPERATIONS.md "Upgrading"): an installation of the previous
release, running with requests in every state (consumed, in a worker's hands, waiting in
the queues, not yet published), is stopped, migrated and started on this code, and every
accepted request's effects happen exactly once. The previous release's code is checked out
from git and run from its own Procfile on this virtualenv, against a database and a
RabbitMQ vhost of its own; every step is the command an operator runs."""

import subprocess
import sys
from collections import Counter
from contextlib import closing

import psycopg2
import pytest
from amqp.exceptions import NotFound
from django.conf import settings
from psycopg2 import sql

from apps.messaging.broker import broker_connection, topology_queues, vhost_delete, vhost_ensure
from devtools.processes import ROOT, procfile, stop_all, wait_until
from tests.fixtures.processes import Service, process_env

# Over a minute: `make upgrade-rehearsal` (CI) runs it, not the default suite (pytest.ini).
pytestmark = [pytest.mark.broker, pytest.mark.upgrade_rehearsal]

# The annotated tag v2026.12.05: by its commit, which every clone of main has.
PREVIOUS_RELEASE = "e92ecee"
# The processes the load below needs, as the Procfile names them.
WORKERS = (
    "worker-maintenance",
    "worker-customer-service",
    "worker-reporting",
    "worker-notifications-email",
    "worker-notifications-sms",
    "worker-notifications-in-app",
)
BATCH = 6  # repairs (half of them urgent) and complaints per state

# Requests accepted through the release's own services, as its API accepts them.
ACCEPT = """
from apps.accounts.models import User
from apps.complaints.services import complaint_file
from apps.repairs.services import repair_request_submit

alice = User.objects.get(username="alice")
for n in range({count}):
    repair_request_submit(
        resident=alice, category="plumbing", description="{label} %d" % n,
        urgency="urgent" if n % 2 else "normal",
    )
    complaint_file(resident=alice, category="noise", subject="{label} %d" % n,
                   description="upgrade rehearsal")
"""


class Installation:
    """One installation's database and vhost, and the commands run against them."""

    def __init__(self, name):
        self.database = name
        self.vhost = name
        self.env = process_env(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}", TEST_BROKER_VHOST=name
        )
        self.broker_url = settings.CELERY_BROKER_URL.rsplit("/", 1)[0] + f"/{name}"
        self.started = []

    def manage(self, root, *args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"{root}: {args}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def accept(self, root, label, count=BATCH):
        self.manage(root, "shell", "-c", ACCEPT.format(label=label, count=count))

    def start(self, root, *names):
        services = [
            Service(
                name, root=root, TEST_BROKER_VHOST=self.vhost, DATABASE_URL=self.env["DATABASE_URL"]
            )
            for name in names
        ]
        self.started += services
        return services

    def stop(self, services):
        """All at once (SIGTERM: warm shutdown), then until every process has exited."""
        stop_all(services, timeout=30)
        for service in services:
            if service.log_path.name.startswith("worker"):
                assert "Warm shutdown" in service.logs()

    def query(self, statement, *params):
        with closing(psycopg2.connect(self.env["DATABASE_URL"])) as db, db.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()

    def queues(self):
        """Each queue of the topology (dead letters and waiting retries too): ready
        messages and consumers."""
        states = {}
        with broker_connection(self.broker_url) as broker:
            channel = broker.channel()
            for queue in topology_queues():
                try:
                    states[queue.name] = channel.queue_declare(queue=queue.name, passive=True)[1:]
                except NotFound:  # not declared by the previous release (an urgent lane)
                    channel = broker.channel()
            channel.close()
        return states

    def consuming(self, queues):
        return all(self.queues()[queue][1] for queue in queues)

    def unpublished(self):
        [(count,)] = self.query(
            "SELECT count(*) FROM messaging_outboxmessage WHERE published_at IS NULL"
        )
        return count

    def effects(self):
        """What was done for each request: notifications sent by channel, per repair and
        complaint, and the report counters."""
        rows = self.query(
            "SELECT coalesce(variables->>'repair_id', 'c' || (variables->>'complaint_id')), "
            "channel, status FROM notifications_notification"
        )
        [(opened, filed)] = self.query(
            "SELECT (SELECT coalesce(sum(opened), 0) FROM reporting_repairperiodstat "
            "        WHERE span = 'day'), "
            "       (SELECT coalesce(sum(count), 0) FROM reporting_dailypropertystat "
            "        WHERE metric = 'complaints_filed')"
        )
        return Counter((key, channel, status) for key, channel, status in rows), opened, filed


@pytest.fixture
def previous_release(tmp_path):
    """The previous release's code, as `git archive | tar -x` unpacks it."""
    path = tmp_path / "previous"
    path.mkdir()
    subprocess.run(
        f"git archive {PREVIOUS_RELEASE} | tar -x -C {path}", shell=True, cwd=ROOT, check=True
    )
    return path


@pytest.fixture
def installation():
    # Named after the test vhost, which each checkout has its own of (tests/settings.py).
    name = f"{settings.TEST_BROKER_VHOST}_upgrade"
    admin = psycopg2.connect(process_env()["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True

    def drop():
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        vhost_delete(name)

    drop()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    vhost_ensure(name)  # as the operator's RabbitMQ setup does (README)
    installed = Installation(name)
    yield installed
    for service in installed.started:
        service.stop()
    drop()
    admin.close()


def test_upgrade_from_the_previous_release_does_every_request_once(previous_release, installation):
    old, new = previous_release, ROOT
    # The previous release, installed and running.
    installation.manage(old, "migrate", "--no-input")
    installation.manage(old, "broker", "declare")
    installation.manage(old, "seed_demo", "--no-history")  # the users and units of the load
    [old_relay] = installation.start(old, "relay")
    old_workers = installation.start(old, *WORKERS)
    queues = [q for name in WORKERS for q in _procfile_queues(old, name)]
    wait_until(lambda: installation.consuming(queues), timeout=90, message="old workers up")

    # Requests in every state at the upgrade.
    installation.accept(old, "consumed")
    wait_until(lambda: _settled(installation, 1), timeout=60, message="consumed")
    installation.accept(old, "in-hand")  # the workers busy with them when stopped
    installation.stop(old_workers)
    installation.accept(old, "queued")
    wait_until(lambda: installation.unpublished() == 0, message="queued published")
    installation.stop([old_relay])
    installation.accept(old, "unpublished")
    # Each request is two messages (its notice and its report count): the queued batch's
    # wait in the queues (with any the warm shutdown handed back), the last batch's in
    # the outbox.
    waiting = sum(messages for messages, _ in installation.queues().values())
    assert waiting >= 4 * BATCH and installation.unpublished() == 4 * BATCH

    # The upgrade, in the documented order.
    migrated = installation.manage(new, "migrate", "--no-input")
    assert "Applying messaging.0005_prune_indexes" in migrated
    installation.manage(new, "broker", "migrate")
    installation.start(new, "relay")
    installation.start(new, *WORKERS)

    wait_until(lambda: _settled(installation, 4), timeout=120, message="everything done")
    notifications, opened, filed = installation.effects()
    # Each of the 4 x 6 repairs: in-app and email to maintenance, the urgent ones an SMS
    # to the manager; each complaint: in-app to customer service; all once, all sent.
    assert opened == filed == 4 * BATCH
    assert set(notifications.values()) == {1}
    assert Counter(channel for _, channel, _ in notifications) == {
        "in_app": 8 * BATCH,
        "email": 4 * BATCH,
        "sms": 2 * BATCH,
    }
    assert {status for _, _, status in notifications} == {"sent"}
    # Every message published once and consumed once, nothing left anywhere.
    [(outbox, unpublished, ledger, failures)] = installation.query(
        "SELECT (SELECT count(*) FROM messaging_outboxmessage), "
        "(SELECT count(*) FROM messaging_outboxmessage WHERE published_at IS NULL), "
        "(SELECT count(*) FROM messaging_processedmessage), "
        "(SELECT count(*) FROM messaging_messagefailure)"
    )
    assert (unpublished, failures) == (0, 0)
    assert ledger == outbox
    assert {queue: state[0] for queue, state in installation.queues().items() if state[0]} == {}


def _procfile_queues(root, name):
    return procfile(root)[name].split(" -Q ")[1].split()[0].split(",")


def _settled(installation, batches):
    """`batches` of requests done: their report counters and notifications all sent,
    nothing waiting in the outbox or a queue."""
    notifications, opened, filed = installation.effects()
    return (
        opened == filed == batches * BATCH
        and sum(notifications.values()) == 7 * batches * BATCH // 2  # 15 + 6 a batch
        and all(status == "sent" for _, _, status in notifications)
        and installation.unpublished() == 0
        and not any(messages for messages, _ in installation.queues().values())
    )
