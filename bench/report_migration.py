"""How long migration reporting/0004_repair_period_stats takes on a 1,000,000-repair
installation (docs/OPERATIONS.md "Upgrading"; docs/BENCHMARKS.md).

In a database of its own (`<database>_bench_migration`, dropped at the end): the schema
with reporting at 0003, the 1,000,000 repairs of bench/reports.py, and the report rows as
the code before 0004 kept them (daily counters in DailyPropertyStat, one
RepairDurationBucket row per period, group and bucket), then `migrate reporting 0004`,
timed. Prints the row counts and the time.
"""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propmgmt.settings")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/propmgmt")
SERVER, BASE_NAME = BASE_URL.rsplit("/", 1)
os.environ["DATABASE_URL"] = f"{SERVER}/{BASE_NAME}_bench_migration"

import django  # noqa: E402

django.setup()

import psycopg2  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from psycopg2 import sql  # noqa: E402

from apps.reporting.facts import DURATION_BUCKET_GROWTH  # noqa: E402
from bench.reports import REPAIRS, SEED  # noqa: E402

# The report rows as the reporting consumer kept them before 0004 (bench/reports.py at
# 700351f^): counters per day, histogram buckets per day, week and month.
FILL_OLD_REPORTS = f"""
SET synchronous_commit = off;
INSERT INTO reporting_dailypropertystat
  (property_id, day, metric, category, urgency, count, total, updated_at)
SELECT r.property_id, (c.changed_at AT TIME ZONE 'UTC')::date,
  CASE c.to_status WHEN 'submitted' THEN 'repairs_opened' WHEN 'resolved' THEN 'repairs_resolved'
    ELSE 'repairs_cancelled' END, r.category, r.urgency, count(*), 0, now()
FROM repairs_repairstatuschange c JOIN repairs_repairrequest r ON r.id = c.repair_id
WHERE c.to_status IN ('submitted', 'resolved', 'cancelled')
GROUP BY 1, 2, 3, 4, 5;
INSERT INTO reporting_repairdurationbucket
  (property_id, span, day, measure, category, urgency, bucket, count, total_seconds, updated_at)
SELECT property_id, span, date_trunc(span, day)::date, measure, category, urgency, bucket,
  count(*), sum(seconds), now()
FROM (
  SELECT r.property_id, (c.changed_at AT TIME ZONE 'UTC')::date AS day,
    CASE c.to_status WHEN 'acknowledged' THEN 'acknowledge' ELSE 'resolve' END AS measure,
    r.category, r.urgency, s.seconds,
    floor(ln(1 + greatest(s.seconds, 0)) / ln({DURATION_BUCKET_GROWTH}))::int AS bucket
  FROM repairs_repairstatuschange c JOIN repairs_repairrequest r ON r.id = c.repair_id,
    LATERAL (SELECT floor(extract(epoch FROM c.changed_at - r.created_at))::bigint AS seconds) s
  WHERE c.to_status = 'resolved' OR (c.to_status = 'acknowledged' AND c.from_status = 'submitted')
) facts, unnest(ARRAY['day', 'week', 'month']) AS span GROUP BY 1, 2, 3, 4, 5, 6, 7;
ANALYZE;
"""


# Per span: repairs opened, resolved, and resolutions in the resolve histograms.
COPIED = """
SELECT span, sum(opened), sum(resolved),
  sum((SELECT coalesce(sum(n), 0) FROM unnest(resolve_counts) AS n))
FROM reporting_repairperiodstat GROUP BY span ORDER BY span
"""


def count(table):
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return cursor.fetchone()[0]


def drop_database():
    connection.close()
    database = connection.settings_dict
    admin = psycopg2.connect(
        dbname="postgres", user=database["USER"], host=database["HOST"], port=database["PORT"]
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database["NAME"])
            )
        )
    admin.close()


def main():
    drop_database()
    call_command("db_create")
    try:
        call_command("migrate", verbosity=0)
        call_command("migrate", "reporting", "0003", verbosity=0)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(SEED)
        print(f"seeded {REPAIRS:,} repairs in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FILL_OLD_REPORTS)
        print(
            f"old report rows: {count('reporting_dailypropertystat'):,} daily counters, "
            f"{count('reporting_repairdurationbucket'):,} duration buckets, "
            f"filled in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        started = time.perf_counter()
        call_command("migrate", "reporting", "0004", verbosity=0)
        print(
            f"migrate reporting 0004: {time.perf_counter() - started:.1f} s, "
            f"{count('reporting_repairperiodstat'):,} period rows, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        with connection.cursor() as cursor:
            cursor.execute(COPIED)
            copied = cursor.fetchall()
        # Every span holds every repair once, and every resolution in its histogram.
        assert all(row[1:] == (REPAIRS, copied[0][2], copied[0][2]) for row in copied), copied
    finally:
        drop_database()


if __name__ == "__main__":
    main()
