"""docker-compose.yml and the Procfile describe the same processes with the same
commands (docker cannot run here, so this keeps the two from drifting)."""

import re

import yaml

from devtools.processes import ROOT, procfile

INFRASTRUCTURE = {"postgres", "rabbitmq", "redis", "setup"}


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


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_publishes_only_the_web_port_on_localhost_by_default():
    published = {name: s["ports"] for name, s in compose()["services"].items() if "ports" in s}
    assert published == {"web": ["${WEB_PUBLISH:-127.0.0.1:8000}:8000"]}


def test_compose_runs_no_debug_and_no_demo_users():
    services = compose()["services"]
    for name, service in services.items():
        assert "DEBUG" not in (service.get("environment") or {}), name
        assert "seed_demo" not in " ".join(service.get("command") or []), name
    assert services["web"]["env_file"] == [".env"]
    example = (ROOT / ".env.example").read_text()
    assert "DEBUG" not in example and "DEMO_DATA" not in example


def test_compose_holds_no_password_only_references_to_dot_env():
    """Every secret is `${NAME...}`, interpolated from .env (and named in .env.example);
    no URL carries a user or password written out, guest/guest included."""
    text = (ROOT / "docker-compose.yml").read_text()
    example = (ROOT / ".env.example").read_text()
    for service in compose()["services"].values():
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            if any(word in key for word in ("PASS", "SECRET", "AUTH", "TOKEN")):
                assert value.startswith("${"), (key, value)
            # with the ${...} taken out, a URL has no password left in it
            assert not re.search(r"://[^/@]*:[^/@]+@", re.sub(r"\$\{[^}]*\}", "", value)), value
    for secret in ("POSTGRES_PASSWORD", "RABBITMQ_USER", "RABBITMQ_PASSWORD"):
        assert "${" + secret in text and f"\n{secret}=" in example, secret
    for secret in ("SECRET_KEY", "FLOWER_BASIC_AUTH", "METRICS_TOKEN"):
        assert f"\n{secret}=\n" in example, secret  # to fill in; no value to copy
