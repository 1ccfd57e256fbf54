"""A scoped admin class that does not say how its model reaches a property, or names a
lookup its model does not have, fails `manage.py check` instead of answering a 500."""

import pytest
from django.contrib import admin

from apps.core.admin import ScopedAdminMixin
from apps.properties.models import Unit


def errors_of(**declared):
    model_admin = type("UnitScoped", (ScopedAdminMixin, admin.ModelAdmin), declared)
    return [e.id for e in model_admin(Unit, admin.site).check()]


@pytest.mark.parametrize(
    "declared, expected",
    [
        ({}, ["core.E001"]),
        ({"property_path": "building"}, ["core.E001"]),
        ({"property_path": ("property", "residencies__nowhere")}, ["core.E001"]),
        ({"property_path": "property"}, []),
        ({"property_path": ("property", "pk")}, []),
    ],
)
def test_a_scoped_admin_declares_a_lookup_its_model_has(declared, expected):
    assert errors_of(**declared) == expected
