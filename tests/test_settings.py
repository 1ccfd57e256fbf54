"""Production defaults: what happens when a variable is forgotten."""

import subprocess
import sys


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
