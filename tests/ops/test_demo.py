"""`manage.py demo --scenario` against a real web process and real workers."""

import subprocess
import sys

import pytest
from django.core.management import call_command

from tests.conftest import ROOT
from tests.ops.conftest import ALL_QUEUES, process_env

pytestmark = pytest.mark.broker


def test_the_scenario_runs_against_the_running_system(clean_queues, start_worker, start_service):
    call_command("seed_demo")
    start_worker(*ALL_QUEUES)
    web = start_service("web", path="/healthz/")
    result = subprocess.run(
        [sys.executable, "manage.py", "demo", "--scenario", "--url", web.url()],
        cwd=ROOT, env=process_env(), capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    for step in (
        "ok    a resident registers, confirms and is approved",
        "ok    a visitor arrives and security is told",
        "ok    an urgent repair overtakes normal ones",
        "ok    a complaint reaches customer service",
        "ok    a worker is killed mid-task and the task still completes once",
        "ok    a poison message is dead-lettered and replayed after a fix",
        "ok    an announcement reaches every resident",
        "ok    the reports move",
    ):
        assert step in result.stdout


def test_a_step_that_does_not_happen_fails_the_scenario(clean_queues, start_service):
    call_command("seed_demo")
    web = start_service("web", path="/healthz/")  # no workers: nothing is delivered
    result = subprocess.run(
        [sys.executable, "manage.py", "demo", "--scenario", "--url", web.url(), "--timeout", "2"],
        cwd=ROOT, env=process_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "FAIL  a resident registers, confirms and is approved" in result.stdout
    assert "steps did not happen" in result.stderr
