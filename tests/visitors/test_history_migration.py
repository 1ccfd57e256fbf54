"""The data migration that moved visitor history into the shared status-history shape
(visitors/0003): real rows, forwards and backwards."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.accounts.models import Role
from apps.visitors.models import VisitorStatusChange
from tests.factories import PropertyFactory, UnitFactory, UserFactory

BEFORE = [("visitors", "0001_initial")]
AFTER = [("visitors", "0004_delete_visitorevent")]


def migrate(targets):
    """Migrate to `targets`; the models of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_visitor_events_become_status_changes_and_back():
    unit = UnitFactory(property=PropertyFactory())
    resident = UserFactory(role=Role.RESIDENT, unit=unit)
    guard = UserFactory(role=Role.SECURITY, property=unit.property)
    t0 = timezone.now().replace(microsecond=0)
    at = [t0 + datetime.timedelta(minutes=m) for m in range(4)]
    try:
        old = migrate(BEFORE)
        Visitor, VisitorEvent = (
            old.get_model("visitors", "Visitor"),
            old.get_model("visitors", "VisitorEvent"),
        )

        def visitor(name, status):
            return Visitor.objects.create(
                unit_id=unit.pk,
                property_id=unit.property_id,
                host_id=resident.pk,
                name=name,
                status=status,
                expected_arrival=t0,
            )

        visits = {
            "departed": visitor("Ada", "departed"),
            "walk_in": visitor("Bo", "arrived"),
            "cancelled": visitor("Cy", "cancelled"),
            "silent": visitor("Di", "expected"),  # no event at all
        }
        events = [  # (visitor, status, at, by), not in time order
            (visits["departed"], "departed", at[3], guard.pk),
            (visits["departed"], "expected", at[0], resident.pk),
            (visits["cancelled"], "expected", at[1], resident.pk),
            (visits["departed"], "arrived", at[1], guard.pk),
            (visits["walk_in"], "arrived", at[2], guard.pk),
            (visits["cancelled"], "cancelled", at[1], None),  # same time: id orders
        ]
        for v, status, when, by in events:
            VisitorEvent.objects.create(visitor_id=v.pk, status=status, at=when, by_id=by)
        before = sorted(VisitorEvent.objects.values_list("visitor_id", "status", "at", "by_id"))

        migrate(AFTER)
        history = {
            name: list(
                VisitorStatusChange.objects.filter(visitor_id=v.pk).values_list(
                    "from_status", "to_status", "changed_at", "changed_by_id", "note"
                )
            )
            for name, v in visits.items()
        }
        assert history == {
            "departed": [
                ("", "expected", at[0], resident.pk, ""),
                ("expected", "arrived", at[1], guard.pk, ""),
                ("arrived", "departed", at[3], guard.pk, ""),
            ],
            "walk_in": [("", "arrived", at[2], guard.pk, "")],
            "cancelled": [
                ("", "expected", at[1], resident.pk, ""),
                ("expected", "cancelled", at[1], None, ""),
            ],
            "silent": [],
        }
        assert "visitors_visitorevent" not in connection.introspection.table_names()

        back = migrate(BEFORE)
        restored = back.get_model("visitors", "VisitorEvent").objects
        assert sorted(restored.values_list("visitor_id", "status", "at", "by_id")) == before
        assert "visitors_visitorstatuschange" not in connection.introspection.table_names()
    finally:
        migrate(AFTER)
