"""In the admin, staff see only their properties, and actions go through the services."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from apps.messaging.models import OutboxMessage
from apps.visitors.models import Visitor
from apps.visitors.services import visitor_expect
from tests.fixtures_b import world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def expected_visitor(site):
    return visitor_expect(
        host=site.resident, unit=site.unit, name=f"Guest of {site.unit.code}",
        expected_arrival=timezone.now() + datetime.timedelta(hours=1),
    )  # fmt: skip


def test_security_sees_own_property_visitors_and_checks_in_through_the_service(world):  # noqa: F811
    own, other = expected_visitor(world.a), expected_visitor(world.b)
    security = world.user("security")
    security.is_staff = True
    security.save()
    security.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_visitor", "change_visitor"])
    )
    client = Client()
    client.force_login(security)
    page = client.get("/admin/visitors/visitor/").content.decode()
    assert own.name in page and other.name not in page
    response = client.post(
        "/admin/visitors/visitor/",
        {"action": "visitor_check_in", "_selected_action": [own.pk]},
    )
    assert response.status_code == 302
    assert Visitor.objects.get(pk=own.pk).status == "arrived"
    assert OutboxMessage.objects.filter(event="visitor.arrived").exists()
