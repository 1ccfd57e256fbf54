"""The demo installation (`seed_demo`) with one repair, complaint and expected visitor at
each demo property, made through the services as residents make them."""

import copy
import datetime
import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import User
from apps.complaints.services import complaint_file
from apps.ops.management.commands.seed_demo import DEMO_PASSWORD
from apps.repairs.services import repair_request_submit
from apps.visitors.services import visitor_expect
from tests.conftest import module_transaction

STAFF_ROLES = ("maintenance", "security", "customer_service", "manager")


@dataclass
class Work:
    """What a resident of one property asked for."""

    repair: object
    complaint: object
    visitor: object


def resident_work(username, visitor_name):
    resident = User.objects.get(username=username)
    unit = resident.residencies.get().unit
    return Work(
        repair=repair_request_submit(
            resident=resident, category="plumbing", description="Leaking tap", urgency="urgent"
        ),
        complaint=complaint_file(
            resident=resident, category="noise", subject="Loud music", description="Nightly"
        ),
        visitor=visitor_expect(
            host=resident,
            unit=unit,
            name=visitor_name,
            expected_arrival=timezone.now() + datetime.timedelta(hours=1),
        ),  # fmt: skip
    )


@dataclass
class Demo:
    oak: Work  # the demo staff's property (alice lives there)
    elm: Work  # another property (carol's), none of the demo staff's


def demo_install():
    call_command("seed_demo", stdout=io.StringIO())
    return Demo(
        oak=resident_work("alice", "Olga Oakvisitor"), elm=resident_work("carol", "Eli Elmvisitor")
    )


def login(client, username, password=DEMO_PASSWORD):
    """Log in through the admin's own login form, as a person would."""
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


@pytest.fixture(scope="module")
def demo_once(django_db_setup, django_db_blocker):
    with module_transaction(django_db_blocker):
        yield demo_install()


@pytest.fixture
def demo(db, demo_once):
    """The demo installation, made once per module; each test's changes are rolled back."""
    return copy.deepcopy(demo_once)
