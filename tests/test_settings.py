"""Production defaults: what happens when a variable is forgotten."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings


def test_debug_is_off_when_the_environment_does_not_turn_it_on():
    # No DEBUG and no SECRET_KEY: were DEBUG on by default, the development key would be
    # used silently; off, the settings refuse to start.
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={"DJANGO_SETTINGS_MODULE": "propmgmt.settings", "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG)"],
        env={"DJANGO_SETTINGS_MODULE": "propmgmt.settings", "SECRET_KEY": "k" * 50, "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("trusted_proxy_count", ["0", "1"])
def test_check_deploy_is_clean_with_the_production_settings(trusted_proxy_count):
    """`manage.py check --deploy` with DEBUG off and a real SECRET_KEY from the environment
    (nothing else set, no .env read over it): any warning fails (README "Security")."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "propmgmt.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TRUSTED_PROXY_COUNT": trusted_proxy_count,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout
