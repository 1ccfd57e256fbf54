"""A production-shaped installation never gets the demo users (their password is public):
`seed_demo` loads nothing unless DEMO_DATA is on, `seed_demo --remove` deletes them from an
installation that had them, and Flower refuses to start without a login of its own."""

import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from apps.ops.management.commands.seed_demo import DEMO_PASSWORD
from apps.properties.models import Property
from apps.repairs.models import RepairRequest
from devtools.processes import ROOT, procfile_argv
from tests.factories import PropertyFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def settings_value(name, **env):
    """settings.<name> as a production process started with `env` sees it."""
    result = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(repr(settings.{name}))"],
        env={"DJANGO_SETTINGS_MODULE": "propmgmt.settings", "PATH": "", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_demo_data_is_on_in_development_and_off_in_production():
    assert settings_value("DEMO_DATA", DEBUG="true") == "True"
    assert settings_value("DEMO_DATA", SECRET_KEY="k" * 50) == "False"
    assert settings_value("DEMO_DATA", SECRET_KEY="k" * 50, DEMO_DATA="true") == "True"


def test_secret_key_fallbacks_come_from_the_environment():
    value = settings_value("SECRET_KEY_FALLBACKS", SECRET_KEY="n" * 50, SECRET_KEY_FALLBACKS="a,b")
    assert value == "['a', 'b']"


def test_without_demo_data_seed_demo_creates_no_user(settings):
    settings.DEMO_DATA = False
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "DEMO_DATA is off" in out.getvalue()
    assert not User.objects.exists() and not Property.objects.exists()


def test_the_real_admin_comes_from_createsuperuser(settings):
    settings.DEMO_DATA = False
    call_command("seed_demo", stdout=io.StringIO())
    env = {"DJANGO_SUPERUSER_PASSWORD": "a-real-and-long-passphrase-91"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        call_command(
            "createsuperuser",
            username="root",
            email="ops@example.org",
            interactive=False,
            stdout=io.StringIO(),
        )
    client = Client()
    assert client.login(username="root", password=env["DJANGO_SUPERUSER_PASSWORD"])
    assert client.get("/admin/accounts/user/").status_code == 200
    assert not Client().login(username="admin", password=DEMO_PASSWORD)


def test_seed_demo_remove_deletes_the_demo_users_and_properties_only():
    call_command("seed_demo", stdout=io.StringIO())
    assert Client().login(username="admin", password=DEMO_PASSWORD)
    real = PropertyFactory(code="main", name="Main Street")
    tenant = UserFactory(unit=UnitFactory(property=real))
    # an operator's own user who happens to be called `manager`: not a demo user
    User.objects.filter(username="manager").update(email="boss@company.example")
    out = io.StringIO()
    call_command("seed_demo", "--remove", stdout=out)
    assert "demo data removed: 2 properties, 7 users" in out.getvalue()
    assert set(User.objects.values_list("username", flat=True)) == {tenant.username, "manager"}
    assert list(Property.objects.all()) == [real]
    assert not RepairRequest.objects.exists()  # the demo history went with its properties
    assert not Client().login(username="admin", password=DEMO_PASSWORD)
    call_command("seed_demo", "--remove", stdout=io.StringIO())  # again: nothing left to do


def test_flower_refuses_to_start_without_its_own_login():
    env = {k: v for k, v in os.environ.items() if k != "FLOWER_BASIC_AUTH"}
    result = subprocess.run(
        procfile_argv("flower"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "FLOWER_BASIC_AUTH must be set" in result.stderr
