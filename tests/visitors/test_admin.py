"""In the admin, staff see only their properties, and actions go through the services."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.messaging.models import OutboxMessage
from apps.visitors.models import Visitor
from tests.factories import VisitorFactory

pytestmark = pytest.mark.django_db


def test_security_sees_own_property_visitors_and_checks_in_through_the_service(world):
    own, other = VisitorFactory(site=world.a), VisitorFactory(site=world.b)
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
