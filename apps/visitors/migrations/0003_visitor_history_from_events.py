"""Each VisitorEvent (a status a visitor reached, when, by whom) becomes a
VisitorStatusChange, the history row every workflow keeps: from_status is the status of the
visitor's previous event ('' for its first), to_status the event's status. The reverse
makes the events again from the history rows (their notes, which visitors never wrote,
are not kept). tests/visitors/test_history_migration.py runs both ways on real rows."""

from django.db import migrations

HISTORY_FROM_EVENTS = """
INSERT INTO visitors_visitorstatuschange
    (visitor_id, from_status, to_status, changed_by_id, changed_at, note)
SELECT visitor_id,
       COALESCE(LAG(status) OVER (PARTITION BY visitor_id ORDER BY at, id), ''),
       status, by_id, at, ''
FROM visitors_visitorevent
ORDER BY visitor_id, at, id
"""

EVENTS_FROM_HISTORY = """
INSERT INTO visitors_visitorevent (visitor_id, status, at, by_id)
SELECT visitor_id, to_status, changed_at, changed_by_id
FROM visitors_visitorstatuschange
ORDER BY visitor_id, changed_at, id
"""


class Migration(migrations.Migration):

    dependencies = [
        ('visitors', '0002_visitorstatuschange'),
    ]

    operations = [
        migrations.RunSQL(HISTORY_FROM_EVENTS, reverse_sql=EVENTS_FROM_HISTORY),
    ]
