"""`make run` loads demo data idempotently, and the demo admin can use the admin."""

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import Role, User
from apps.ops.management.commands.seed_demo import DEMO_PASSWORD
from apps.properties.models import Property, Residency, StaffAssignment

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_covers_every_role():
    call_command("seed_demo")
    counts = (User.objects.count(), Residency.objects.count(), StaffAssignment.objects.count())
    call_command("seed_demo")
    assert counts == (
        User.objects.count(),
        Residency.objects.count(),
        StaffAssignment.objects.count(),
    )
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert Property.objects.count() == 2


def test_demo_admin_logs_in_to_the_admin():
    call_command("seed_demo")
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": DEMO_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    wrong = Client().post("/admin/login/", {"username": "admin", "password": "nope"})
    assert wrong.status_code == 200 and "correct username" in wrong.content.decode()


def test_settings_refuse_production_without_secret_key():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django, os; django.setup()"],
        env={"DJANGO_SETTINGS_MODULE": "propmgmt.settings", "DEBUG": "false", "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
