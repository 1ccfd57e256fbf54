"""Every model endpoint against its role table (tests/api_cases.py): list, retrieve, create
and update, for every role, with site B out of sight of site A's staff."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api_cases import CreateCases, ListRetrieveCases, UpdateCases
from tests.factories import AssetFactory, ComplaintFactory, RepairRequestFactory, VisitorFactory

pytestmark = pytest.mark.django_db

EVERYONE = {"resident", "maintenance", "security", "customer_service", "manager", "admin"}
MANAGERS = {"manager", "admin"}


class TestProperties(ListRetrieveCases, CreateCases, UpdateCases):
    url = "/api/v1/properties/"
    readers = EVERYONE
    creators = updaters = MANAGERS
    echoed = ("name", "code")
    invalid = [({}, {"name", "code"}), ({"name": "x", "code": "not a slug"}, {"code"})]

    def make(self, site):
        return site.property

    def create_data(self, site):
        return {"name": "Ash Yard", "code": f"ash-{site.property.code}"}

    def update_data(self, site):
        return {"name": "Renamed", "address": "2 New Street"}


class TestUnits(ListRetrieveCases, CreateCases, UpdateCases):
    url = "/api/v1/units/"
    readers = EVERYONE  # a resident sees their own unit
    creators = updaters = MANAGERS
    echoed = ("property", "code", "floor")
    invalid = [({}, {"property", "code"}), ({"property": 0, "code": "X"}, {"property"})]

    def make(self, site):
        return site.unit

    def create_data(self, site):
        return {"property": site.property.pk, "code": f"{site.property.code}-NEW", "floor": "2"}

    def update_data(self, site):
        return {"floor": "3"}


class TestAssets(ListRetrieveCases, CreateCases, UpdateCases):
    url = "/api/v1/assets/"
    readers = creators = updaters = {"maintenance", "manager", "admin"}
    echoed = ("property", "name", "category", "condition")
    invalid = [({}, {"property", "name", "category"}), ({"category": "roof"}, {"category"})]

    def make(self, site):
        return AssetFactory(site=site)

    def create_data(self, site):
        return {
            "property": site.property.pk,
            "name": "Lift A",
            "category": "lift",
            "condition": "fair",
        }

    def update_data(self, site):
        return {"name": "Lift B", "condition": "poor"}


class TestVisitors(ListRetrieveCases, CreateCases):
    url = "/api/v1/visitors/"
    readers = {"resident", "security", "manager", "admin"}
    creators = {"resident"}
    echoed = ("name", "purpose")
    invalid = [
        ({}, {"name", "expected_arrival"}),
        ({"name": "G", "expected_arrival": "soon"}, {"expected_arrival"}),
    ]

    def make(self, site):
        return VisitorFactory(site=site)

    def create_data(self, site):
        arrival = (timezone.now() + timedelta(hours=2)).isoformat()
        return {"name": "Grace", "purpose": "tea", "expected_arrival": arrival}


class TestRepairs(ListRetrieveCases, CreateCases):
    url = "/api/v1/repairs/"
    readers = {"resident", "maintenance", "manager", "admin"}
    creators = {"resident"}
    echoed = ("category", "description", "urgency")
    invalid = [
        ({}, {"category", "description"}),
        ({"category": "roof", "description": "x"}, {"category"}),
        ({"category": "pest", "description": "   "}, {"description"}),
        ({"category": "pest", "description": "x", "urgency": "asap"}, {"urgency"}),
        (
            {"category": "pest", "description": "x", "preferred_time": "yesterday"},
            {"preferred_time"},
        ),
        (
            {"category": "pest", "description": "x", "preferred_time": "2001-01-01T10:00:00Z"},
            {"preferred_time"},
        ),
        ({"category": "pest", "description": "x" * 5001}, {"description"}),
        ({"category": "pest", "description": "x", "unit": "abc"}, {"unit"}),
        ({"category": ["pest"], "description": {"a": 1}}, {"category", "description"}),
    ]

    def make(self, site):
        return RepairRequestFactory(site=site)

    def create_data(self, site):
        return {"category": "heating", "description": "Cold radiator", "urgency": "low"}


class TestComplaints(ListRetrieveCases, CreateCases):
    url = "/api/v1/complaints/"
    readers = {"resident", "customer_service", "manager", "admin"}
    creators = {"resident"}
    echoed = ("category", "subject", "description")
    invalid = [
        ({}, {"category", "subject", "description"}),
        ({"category": "x", "subject": "s", "description": "d"}, {"category"}),
        ({"category": "noise", "subject": "", "description": "d"}, {"subject"}),
        ({"category": "noise", "subject": "s" * 201, "description": "d"}, {"subject"}),
        ({"category": "noise", "subject": "s", "description": "d", "unit": 0}, {"unit"}),
        ({"category": "noise", "subject": ["s"], "description": None}, {"subject", "description"}),
    ]

    def make(self, site):
        return ComplaintFactory(site=site)

    def create_data(self, site):
        return {"category": "noise", "subject": "Loud", "description": "A party at 3am"}
