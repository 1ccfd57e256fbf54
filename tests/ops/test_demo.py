"""`manage.py demo --scenario` against a real web process and real workers."""

import subprocess
import sys

import pytest
from django.core.cache import cache
from django.core.management import call_command

from devtools.processes import ROOT, free_port
from tests.fixtures.processes import process_env
from tests.ops.conftest import ALL_QUEUES

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def run_scenario(web, *options, timeout=240):
    return subprocess.run(
        [sys.executable, "manage.py", "demo", "--scenario", "--url", web.url(), *options],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_scenario_runs_twice_in_a_row_against_the_running_system(
    clean_queues, start_worker, start_service
):
    """Twice within a minute, as a newcomer re-runs it: each run logs each user in once
    (the login endpoint allows 20 a minute per address); with one worker process on the
    repair queue the urgent repair is handled first every time, not by luck; and a resident
    over the hourly announcement limit (1 here; 5 by default, so the sixth run in an hour)
    gets the second run's announcement in their digest, which is how it reaches them."""
    cache.clear()  # the login throttle starts empty, as on a fresh installation
    call_command("seed_demo")
    start_worker(*ALL_QUEUES, env={"ANNOUNCEMENT_THROTTLE_PER_HOUR": "1"})
    web = start_service("web", path="/healthz/")
    for run in (1, 2):
        result = run_scenario(web)
        print(result.stdout, result.stderr)
        assert result.returncode == 0, f"run {run}:\n{result.stdout}{result.stderr}"
        assert "Traceback" not in result.stderr
        for step in (
            "ok    a resident registers, confirms and is approved",
            "ok    a visitor arrives and security is told",
            "ok    a parcel arrives, the resident is told, it is picked up with the code",
            "ok    an urgent repair overtakes normal ones",
            "ok    a complaint reaches customer service",
            "ok    a worker is killed mid-task and the task still completes once",
            "ok    a poison message is dead-lettered and replayed after a fix",
            "ok    an announcement reaches every resident",
            "ok    alice books the party room, the manager approves, alice is told",
            "ok    the reports move",
        ):
            assert step in result.stdout, f"run {run}"
        assert "the urgent one was handled 1. of 13" in result.stdout, f"run {run}"
    assert "into their hourly digest" in result.stdout


def test_a_step_that_does_not_happen_fails_the_scenario(clean_queues, start_service):
    call_command("seed_demo")
    web = start_service("web", path="/healthz/")  # no workers: nothing is delivered
    result = run_scenario(web, "--timeout", "2", timeout=120)
    assert result.returncode != 0
    assert "FAIL  a resident registers, confirms and is approved" in result.stdout
    assert "steps did not happen" in result.stderr


def test_the_scenario_without_a_web_process_says_why_in_one_line(clean_queues, transactional_db):
    """Run before `make run` is up: one line saying what failed, exit non-zero, no traceback."""
    nobody = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [sys.executable, "manage.py", "demo", "--scenario", "--url", nobody, "--timeout", "2"],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == (
        f"CommandError: cannot start: POST {nobody}/api/v1/auth/token/: ConnectionError"
        " (is `make run` up?)"
    )
