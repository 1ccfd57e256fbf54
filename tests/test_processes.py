"""docker-compose.yml and the Procfile describe the same processes with the same
commands (docker cannot run here, so this keeps the two from drifting)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
INFRASTRUCTURE = {"postgres", "rabbitmq", "redis", "setup"}


def procfile():
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def compose_commands():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    commands = {}
    for name, service in services.items():
        if name in INFRASTRUCTURE:
            continue
        shell, flag, command = service["command"]
        assert (shell, flag) == ("sh", "-c"), name
        # `$$` is compose's escape for a `$` the container's shell expands.
        commands[name] = command.replace("$$", "$")
    return commands


def test_compose_and_procfile_run_the_same_processes():
    assert compose_commands() == procfile()


def test_every_celery_worker_consumes_declared_queues_only():
    import celeryconfig

    consumed = set()
    for command in procfile().values():
        if " worker " in command:
            queues = command.split(" -Q ", 1)[1].split()[0].split(",")
            assert set(queues) <= set(celeryconfig.WORK_QUEUE_NAMES), command
            consumed.update(queues)
    assert consumed == set(celeryconfig.WORK_QUEUE_NAMES)


def test_compose_services_have_what_they_need():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert "rabbitmq" in services and "management" in services["rabbitmq"]["image"]
    assert services["postgres"]["image"].startswith("postgres")
    for name in procfile():
        assert services[name]["depends_on"]["setup"]["condition"] == (
            "service_completed_successfully"
        )
