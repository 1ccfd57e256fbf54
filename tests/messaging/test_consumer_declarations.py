"""One declaration per consumer (apps/messaging/consumers.py): what tasks/ declares is
what celeryconfig.py routes and subscribes, what `broker topology` prints, and what the
Procfile and docker-compose.yml run; adding a consumer touches its module only.

Pure checks of files and configuration (no broker)."""

import importlib
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import celeryconfig
from apps.messaging.consumers import Consumer, ConsumerDeclarationError, consumer_table
from apps.messaging.procfile import compose_text, procfile_text, worker_command

ROOT = Path(__file__).resolve().parents[2]


def test_what_the_imported_modules_declare_is_what_celeryconfig_read():
    for module, read in celeryconfig.CONSUMERS.modules.items():
        imported = importlib.import_module(module)
        declared = [v.declared() for v in vars(imported).values() if isinstance(v, Consumer)]
        assert declared == [consumer.declared() for consumer in read], module


def test_every_consumer_module_of_tasks_is_declared_and_imported_by_the_workers():
    modules = {f"tasks.{p.stem}" for p in (ROOT / "tasks").glob("*.py")}
    assert set(celeryconfig.imports) == modules - {"tasks.__init__", "tasks.base"}


def test_the_committed_generated_parts_are_what_the_code_generates():
    # Fails when a declaration or an event type changed and `broker generate --write` was
    # not run: the Procfile's and compose's worker lines, docs/MESSAGING.md's event table.
    call_command("broker", "generate", "--check")


def test_a_drifted_procfile_is_found_and_rewritten():
    procfile = (ROOT / "Procfile").read_text()
    drifted = procfile.replace(
        "WORKER_MAINTENANCE_CONCURRENCY:-1", "WORKER_MAINTENANCE_CONCURRENCY:-4"
    )
    assert drifted != procfile
    assert procfile_text(drifted) == procfile
    compose = (ROOT / "docker-compose.yml").read_text()
    assert compose_text(compose.replace("-n email@%h", "-n mail@%h")) == compose


def test_check_and_write_together_are_refused():
    with pytest.raises(CommandError, match="not both"):
        call_command("broker", "generate", "--check", "--write")


def test_a_worker_line_honours_its_own_then_the_global_knobs_then_its_defaults():
    [maintenance] = [s for s in celeryconfig.CONSUMERS.services if s.name == "maintenance"]

    def expanded(**env):
        command = worker_command(maintenance)
        result = subprocess.run(
            ["sh", "-c", f'echo "{command}"'], env=env, text=True, capture_output=True, check=True
        )
        return result.stdout.split()

    defaults = expanded()
    assert defaults[defaults.index("-c") + 1] == "1"
    assert defaults[defaults.index("--max-tasks-per-child") + 1] == "1000"
    tuned = expanded(
        WORKER_MAINTENANCE_CONCURRENCY="6",
        WORKER_MAINTENANCE_POOL="threads",
        WORKER_MAX_TASKS_PER_CHILD="50",
        WORKER_MAINTENANCE_MAX_MEMORY_PER_CHILD="1024",
        WORKER_MAX_MEMORY_PER_CHILD="2048",
    )
    assert tuned[tuned.index("-c") + 1] == "6"
    assert tuned[tuned.index("-P") + 1] == "threads"
    assert tuned[tuned.index("--max-tasks-per-child") + 1] == "50"
    assert tuned[tuned.index("--max-memory-per-child") + 1] == "1024"


def test_broker_topology_prints_every_queue_route_event_and_worker(capsys):
    call_command("broker", "topology")
    out = capsys.readouterr().out
    queues = celeryconfig.WORK_QUEUES + celeryconfig.DEAD_LETTER_QUEUES + celeryconfig.DELAY_QUEUES
    for queue in queues:
        assert f"\n  {queue.name} " in out, queue.name
    assert "x-message-ttl=3600000" in out
    if celeryconfig.QUORUM:
        assert "x-queue-type=quorum" in out and "x-max-priority" not in out
        assert "  repair_requests              -> repair_requests.urgent\n" in out
    else:
        assert "x-max-priority=9" in out and ".urgent" not in out
    for task, queue in celeryconfig.TASK_QUEUES.items():
        assert f"  {task} " in out and f"-> {queue}\n" in out
    for event in celeryconfig.EVENT_SUBSCRIPTIONS:
        assert f"\n  {event} " in out
    for service in celeryconfig.CONSUMERS.services:
        assert f"\n  {service.process} " in out


def _tasks_dir(tmp_path, **modules):
    directory = tmp_path / "tasks"
    directory.mkdir()
    for name, source in modules.items():
        (directory / f"{name}.py").write_text(source)
    return directory


def test_adding_a_consumer_touches_its_module_only(tmp_path):
    directory = tmp_path / "tasks"
    shutil.copytree(ROOT / "tasks", directory)
    (directory / "parcels.py").write_text(
        "from apps.messaging.consumers import Consumer\n"
        'consumer = Consumer("parcels", queues=["parcels"], concurrency=1)\n'
        '@consumer.task("parcels.notify_arrived", subscribes=["repair.requested"])\n'
        "def notify_arrived(self, event): ...\n"
    )
    table = consumer_table(directory, "tasks")
    assert table.routes["parcels.notify_arrived"] == "parcels"
    assert "parcels.notify_arrived" in table.subscriptions["repair.requested"]
    assert "tasks.parcels" in table.modules
    procfile = procfile_text((ROOT / "Procfile").read_text(), table.services)
    assert "\nworker-parcels: celery -A propmgmt worker -Q parcels -n parcels@%h" in procfile
    assert "${WORKER_PARCELS_CONCURRENCY:-1}" in procfile
    compose = compose_text((ROOT / "docker-compose.yml").read_text(), table.services)
    assert "\n  worker-parcels:\n    <<: *app\n" in compose


@pytest.mark.parametrize(
    ("modules", "error"),
    [
        (
            {"a": 'QUEUES = ["a"]\nconsumer = Consumer("a", queues=QUEUES)\n'},
            r"a\.py:2: a consumer declaration takes literals only",
        ),
        (
            {
                "a": 'consumer = Consumer("a", queues=["shared"])\n',
                "b": 'consumer = Consumer("b", queues=["shared"])\n',
            },
            "queue 'shared' consumed by two services",
        ),
        (
            {
                "a": 'consumer = Consumer("a", queues=["a"])\n',
                "b": 'consumer = Consumer("a", queues=["b"])\n',
            },
            "worker service 'a' declared with queues twice",
        ),
        (
            {"a": 'consumer = Consumer("nowhere")\n@consumer.task("a.t")\ndef t(self): ...\n'},
            "no module declares the queues of worker service 'nowhere'",
        ),
        (
            {"a": 'c = Consumer("a", queues=["a"])\n@c.task("a.t", queue="b")\ndef t(s): ...\n'},
            "task a.t routed to 'b', not a queue of worker service 'a'",
        ),
        (
            {"a": 'c = Consumer("a", queues=["a"])\n@c.task("a.t")\n@c.task("a.t")\ndef t(s): ...'},
            "task a.t declared twice",
        ),
    ],
)
def test_declarations_that_do_not_fit_are_refused_with_where(tmp_path, modules, error):
    with pytest.raises(ConsumerDeclarationError, match=error):
        consumer_table(_tasks_dir(tmp_path, **modules), "tasks")


def test_an_event_listed_without_consumers_has_none():
    for event in celeryconfig.EVENTS_WITHOUT_CONSUMERS:
        assert event not in celeryconfig.CONSUMERS.subscriptions, f"{event} has consumers"
