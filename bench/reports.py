"""The repairs report for a year, by month, from the report tables vs from the raw rows.

One property with 1,000,000 repairs over a year (each requested, acknowledged and then
resolved or cancelled: 3,000,000 status changes), bulk-inserted with generate_series in
a database of its own (`<database>_bench_reports`, e.g. `propmgmt_bench_reports`; seeded
once, kept for later runs: drop it to reseed); the repair report rows are refilled from
them each run with the same facts the reporting consumer keeps.
Prints the best of three timings of each way and their ratio.
"""

import os
import time
from datetime import date

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propmgmt.settings")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/propmgmt")
# Named after the configured database, so runs against different databases keep apart.
SERVER, BASE_NAME = BASE_URL.rsplit("/", 1)
os.environ["DATABASE_URL"] = f"{SERVER}/{BASE_NAME}_bench_reports"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.reporting.facts import DURATION_BUCKET_GROWTH  # noqa: E402
from apps.reporting.selectors import repairs_report  # noqa: E402

REPAIRS = 1_000_000
YEAR_FROM, YEAR_TO = date(2025, 1, 1), date(2025, 12, 31)
CATEGORIES = ["plumbing", "electrical", "heating", "appliance", "structural", "pest", "other"]
URGENCIES = ["low", "normal", "normal", "urgent"]

SEED = f"""
-- Bench database only: skip per-row foreign-key triggers while bulk loading.
SET session_replication_role = replica;
SET synchronous_commit = off;
INSERT INTO properties_property (name, code, address, time_zone, quiet_hours_start,
  quiet_hours_end, created_at)
VALUES ('Bench Towers', 'bench', '', 'UTC', '22:00', '07:00', now());
INSERT INTO properties_unit (property_id, code, floor, created_at)
SELECT id, 'BENCH-1', '', now() FROM properties_property WHERE code = 'bench';
INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,
  is_staff, is_active, date_joined, role, phone)
VALUES ('!', false, 'bench', '', '', 'bench@example.com', false, true, now(), 'resident', '');
-- Requests spread over the year; durations drawn per row.
CREATE TEMP TABLE bench_repair AS
SELECT n,
  timestamptz '2025-01-01 00:00+00' + random() * interval '365 days' AS requested,
  (ARRAY{CATEGORIES})[1 + n % {len(CATEGORIES)}] AS category,
  (ARRAY{URGENCIES})[1 + n % {len(URGENCIES)}] AS urgency,
  random() * interval '30 hours' AS to_ack,
  random() * interval '10 days' AS to_end,
  random() < 0.05 AS cancelled
FROM generate_series(1, {REPAIRS}) AS n;
INSERT INTO repairs_repairrequest (id, property_id, unit_id, resident_id, category, description,
  urgency, preferred_window, status, version, created_at, updated_at, resolved_at)
SELECT n, p.id, u.id, r.id, category, 'bench', urgency, '',
  CASE WHEN cancelled THEN 'cancelled' ELSE 'resolved' END, 3, requested, requested,
  CASE WHEN cancelled THEN NULL ELSE requested + to_ack + to_end END
FROM bench_repair, properties_property p, properties_unit u, accounts_user r
WHERE p.code = 'bench' AND u.code = 'BENCH-1' AND r.username = 'bench';
INSERT INTO repairs_repairstatuschange (repair_id, from_status, to_status, changed_at, note)
SELECT n, '', 'submitted', requested, '' FROM bench_repair
UNION ALL SELECT n, 'submitted', 'acknowledged', requested + to_ack, '' FROM bench_repair
UNION ALL SELECT n, 'acknowledged', CASE WHEN cancelled THEN 'cancelled' ELSE 'resolved' END,
  requested + to_ack + to_end, '' FROM bench_repair;
SET session_replication_role = DEFAULT;
ANALYZE;
"""

# The repair report rows from the same rows, folded as apps/reporting/services.py folds
# them: per day, week and month, counters plus histograms (arrays by duration bucket).
FILL_REPORTS = f"""
TRUNCATE reporting_repairperiodstat;
CREATE TEMP TABLE bench_fact AS
SELECT r.property_id, span, date_trunc(span, (c.changed_at AT TIME ZONE 'UTC')::date)::date AS day,
  r.category, r.urgency, c.to_status,
  CASE WHEN c.to_status = 'resolved' THEN 'resolve'
    WHEN c.to_status = 'acknowledged' AND c.from_status = 'submitted' THEN 'acknowledge'
  END AS measure,
  s.seconds, floor(ln(1 + greatest(s.seconds, 0)) / ln({DURATION_BUCKET_GROWTH}))::int AS bucket
FROM repairs_repairstatuschange c JOIN repairs_repairrequest r ON r.id = c.repair_id,
  LATERAL (SELECT floor(extract(epoch FROM c.changed_at - r.created_at))::bigint AS seconds) s,
  unnest(ARRAY['day', 'week', 'month']) AS span;
CREATE TEMP TABLE bench_bucket AS
SELECT property_id, span, day, category, urgency, measure, bucket, count(*) AS n,
  sum(seconds) AS seconds
FROM bench_fact WHERE measure IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;
WITH counted AS (
  SELECT property_id, span, day, category, urgency,
    count(*) FILTER (WHERE to_status = 'submitted') AS opened,
    count(*) FILTER (WHERE to_status = 'resolved') AS resolved,
    count(*) FILTER (WHERE to_status = 'cancelled') AS cancelled,
    count(*) FILTER (WHERE to_status = 'reopened') AS reopened
  FROM bench_fact GROUP BY 1, 2, 3, 4, 5
), histograms AS (
  SELECT property_id, span, day, category, urgency, measure,
    array_agg(bucket ORDER BY bucket) AS buckets, array_agg(n ORDER BY bucket) AS counts,
    array_agg(seconds ORDER BY bucket) AS seconds
  FROM bench_bucket GROUP BY 1, 2, 3, 4, 5, 6
), dense AS (
  -- Every bucket up to the highest, 0 where none fell.
  SELECT property_id, span, day, category, urgency, measure,
    ARRAY(SELECT coalesce(counts[array_position(buckets, i)], 0)
          FROM generate_series(0, buckets[cardinality(buckets)]) AS i ORDER BY i) AS counts,
    ARRAY(SELECT coalesce(seconds[array_position(buckets, i)], 0)
          FROM generate_series(0, buckets[cardinality(buckets)]) AS i ORDER BY i) AS seconds
  FROM histograms
)
INSERT INTO reporting_repairperiodstat (property_id, span, day, category, urgency, opened,
  resolved, cancelled, reopened, acknowledge_counts, acknowledge_seconds, resolve_counts,
  resolve_seconds, updated_at)
SELECT c.property_id, c.span, c.day, c.category, c.urgency, c.opened, c.resolved,
  c.cancelled, c.reopened, coalesce(a.counts, '{{}}'), coalesce(a.seconds, '{{}}'),
  coalesce(r.counts, '{{}}'), coalesce(r.seconds, '{{}}'), now()
FROM counted c
LEFT JOIN dense a ON (a.property_id, a.span, a.day, a.category, a.urgency, a.measure)
  = (c.property_id, c.span, c.day, c.category, c.urgency, 'acknowledge')
LEFT JOIN dense r ON (r.property_id, r.span, r.day, r.category, r.urgency, r.measure)
  = (c.property_id, c.span, c.day, c.category, c.urgency, 'resolve');
DROP TABLE bench_fact, bench_bucket;
ANALYZE;
"""

# The same figures straight from the raw rows: per month, category and urgency.
RAW_REPORT = """
WITH steps AS (
  SELECT date_trunc('month', c.changed_at AT TIME ZONE 'UTC')::date AS period,
    r.category, r.urgency, c.from_status, c.to_status,
    extract(epoch FROM c.changed_at - r.created_at) AS seconds
  FROM repairs_repairstatuschange c JOIN repairs_repairrequest r ON r.id = c.repair_id
  WHERE r.property_id = %(property)s AND c.changed_at < %(end)s
), by_period AS (
  SELECT period, category, urgency,
    count(*) FILTER (WHERE to_status = 'submitted') AS opened,
    count(*) FILTER (WHERE to_status = 'resolved') AS resolved,
    count(*) FILTER (WHERE to_status = 'cancelled') AS cancelled,
    count(*) FILTER (WHERE to_status = 'reopened') AS reopened,
    avg(seconds) FILTER (WHERE to_status = 'acknowledged' AND from_status = 'submitted') AS ack_avg,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)
      FILTER (WHERE to_status = 'acknowledged' AND from_status = 'submitted') AS ack_p90,
    avg(seconds) FILTER (WHERE to_status = 'resolved') AS resolve_avg,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)
      FILTER (WHERE to_status = 'resolved') AS resolve_p90
  FROM steps GROUP BY 1, 2, 3
)
SELECT *, sum(opened + reopened - resolved - cancelled)
  OVER (PARTITION BY category, urgency ORDER BY period) AS backlog
FROM by_period WHERE period >= %(start)s ORDER BY period, category, urgency
"""


def best_of(runs, work):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    call_command("db_create")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM repairs_repairrequest WHERE description = 'bench'")
        if cursor.fetchone()[0] != REPAIRS:
            call_command("flush", interactive=False, verbosity=0)
            cursor.execute(SEED)
            print(f"seeded {REPAIRS:,} repairs in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        cursor.execute(FILL_REPORTS)
        print(f"filled the report tables in {time.perf_counter() - started:.0f} s")
        cursor.execute("SELECT id FROM properties_property WHERE code = 'bench'")
        [property_id] = cursor.fetchone()

    def from_reports():
        return repairs_report(
            property_ids=[property_id], date_from=YEAR_FROM, date_to=YEAR_TO, group_by="month"
        )

    def from_raw_rows():
        with connection.cursor() as cursor:
            cursor.execute(
                RAW_REPORT, {"property": property_id, "start": YEAR_FROM, "end": date(2026, 1, 1)}
            )
            return cursor.fetchall()

    report_seconds, report_rows = best_of(3, from_reports)
    raw_seconds, raw_rows = best_of(2, from_raw_rows)
    opened_report = sum(row["opened"] for row in report_rows)
    opened_raw = sum(row[3] for row in raw_rows)
    assert opened_report == opened_raw == REPAIRS, (opened_report, opened_raw)
    print(f"repairs report, 2025 by month ({len(report_rows)} rows, {opened_report:,} opened)")
    print(f"  from report tables: {report_seconds * 1000:8.1f} ms")
    print(f"  from raw rows:      {raw_seconds * 1000:8.1f} ms")
    print(f"  ratio:              {raw_seconds / report_seconds:8.1f}x (target >= 50x)")


if __name__ == "__main__":
    main()
