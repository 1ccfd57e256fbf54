"""Reads of the reporting app: every report is answered from the report tables."""

import math
from collections import defaultdict
from datetime import timedelta

from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from apps.reporting.models import (
    OPEN_BACKLOG_CHANGE,
    AssetSnapshot,
    DailyPropertyStat,
    Measure,
    Metric,
    RepairDurationBucket,
)
from apps.reporting.periods import SPANS, period_start, periods
from apps.reporting.services import ASSET_RETIRED

GROUP_BY = SPANS
WARRANTY_HORIZONS = (30, 90)


def daily_stats(*, property_ids=None, date_from=None, date_to=None):
    """Daily counters, optionally limited to properties (None: all) and a date range."""
    queryset = DailyPropertyStat.objects.all()
    if property_ids is not None:
        queryset = queryset.filter(property_id__in=property_ids)
    if date_from:
        queryset = queryset.filter(day__gte=date_from)
    if date_to:
        queryset = queryset.filter(day__lte=date_to)
    return queryset.order_by("-day", "property_id", "metric", "category", "urgency")


def _period(group_by):
    return {"week": TruncWeek("day"), "month": TruncMonth("day")}.get(group_by, F("day"))


def _scoped(queryset, property_ids, date_from=None, date_to=None):
    if property_ids is not None:
        queryset = queryset.filter(property_id__in=property_ids)
    if date_from is not None:
        queryset = queryset.filter(day__gte=date_from)
    if date_to is not None:
        queryset = queryset.filter(day__lte=date_to)
    return queryset


def _counters(metrics, group, property_ids, date_from, date_to, group_by):
    """{(period, property_id, *group): {metric: (count, total)}}."""
    rows = (
        _scoped(DailyPropertyStat.objects.filter(metric__in=metrics), property_ids, date_from,
                date_to)
        .annotate(period=_period(group_by))
        .values("period", "property_id", *group, "metric")
        .annotate(n=Sum("count"), sum=Sum("total"))
    )  # fmt: skip
    table = defaultdict(dict)
    for row in rows:
        key = (row["period"], row["property_id"], *(row[g] for g in group))
        table[key][row["metric"]] = (row["n"], row["sum"])
    return table


def histogram_p90(buckets):
    """The mean of the histogram bucket holding the 90th percentile: [(bucket, n, total)]."""
    total = sum(n for _, n, _ in buckets)
    if not total:
        return None
    rank, seen = math.ceil(0.9 * total), 0
    for _, n, seconds in sorted(buckets):
        seen += n
        if seen >= rank:
            return round(seconds / n)
    return None


DURATIONS_SQL = f"""
WITH buckets AS (
  SELECT day AS period, property_id, category, urgency, measure, bucket,
    sum(count) AS n, sum(total_seconds) AS seconds
  FROM {RepairDurationBucket._meta.db_table}
  WHERE span = %(span)s AND day >= %(start)s AND day <= %(end)s
    AND (%(all)s OR property_id = ANY(%(properties)s))
  GROUP BY 1, 2, 3, 4, 5, 6
), running AS (
  SELECT *, sum(n) OVER (PARTITION BY period, property_id, category, urgency, measure
                         ORDER BY bucket) AS below,
    sum(n) OVER (PARTITION BY period, property_id, category, urgency, measure) AS total
  FROM buckets
)
SELECT period, property_id, category, urgency, measure, max(total), sum(seconds),
  (array_agg(seconds::float / n ORDER BY bucket) FILTER (WHERE below >= ceil(0.9 * total)))[1]
FROM running GROUP BY 1, 2, 3, 4, 5
"""


def _durations(property_ids, date_from, date_to, group_by):
    """{(period, property_id, category, urgency): {measure: (count, avg, p90)}}, from the
    histograms kept per period (whole weeks and months); the 90th percentile is the mean
    of the bucket it falls in (as histogram_p90), computed in the database."""
    params = {
        "span": group_by, "start": period_start(date_from, group_by), "end": date_to,
        "all": property_ids is None, "properties": list(property_ids or []),
    }  # fmt: skip
    table = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(DURATIONS_SQL, params)
        for period, property_id, category, urgency, measure, count, seconds, p90 in cursor:
            table[(period, property_id, category, urgency)][measure] = (
                int(count),
                round(seconds / count),
                round(p90),
            )
    return table


def repairs_report(*, property_ids, date_from, date_to, group_by):
    """Per period, property, category and urgency: repairs opened, resolved, cancelled,
    reopened, the open backlog at the end of the period, and time to acknowledge and to
    resolve (count, average and 90th percentile, seconds). Every group with a backlog or
    activity gets a row in every period, so backlogs can be summed per period."""
    metrics = list(OPEN_BACKLOG_CHANGE)
    group = ("category", "urgency")
    counters = _counters(metrics, group, property_ids, date_from, date_to, group_by)
    durations = _durations(property_ids, date_from, date_to, group_by)
    # The backlog carried into the range: every counter before it.
    backlog = defaultdict(int)
    before = (
        _scoped(DailyPropertyStat.objects.filter(metric__in=metrics, day__lt=date_from),
                property_ids)
        .values("property_id", *group, "metric")
        .annotate(n=Sum("count"))
    )  # fmt: skip
    for row in before:
        key = (row["property_id"], row["category"], row["urgency"])
        backlog[key] += OPEN_BACKLOG_CHANGE[row["metric"]] * row["n"]
    groups = {key[1:] for key in counters} | {key[1:] for key in durations}
    groups |= {key for key, value in backlog.items() if value}
    rows = []
    for start in periods(date_from, date_to, group_by):
        for key in sorted(groups):
            counts = counters.get((start, *key), {})
            for metric, change in OPEN_BACKLOG_CHANGE.items():
                backlog[key] += change * counts.get(metric, (0, 0))[0]
            times = durations.get((start, *key), {})
            ack = times.get(Measure.ACKNOWLEDGE, (0, None, None))
            resolve = times.get(Measure.RESOLVE, (0, None, None))
            rows.append({
                "period": start, "property_id": key[0], "category": key[1], "urgency": key[2],
                "opened": counts.get(Metric.REPAIRS_OPENED, (0, 0))[0],
                "resolved": counts.get(Metric.REPAIRS_RESOLVED, (0, 0))[0],
                "cancelled": counts.get(Metric.REPAIRS_CANCELLED, (0, 0))[0],
                "reopened": counts.get(Metric.REPAIRS_REOPENED, (0, 0))[0],
                "backlog": backlog[key],
                "acknowledged": ack[0], "acknowledge_avg_seconds": ack[1],
                "acknowledge_p90_seconds": ack[2],
                "resolutions": resolve[0], "resolve_avg_seconds": resolve[1],
                "resolve_p90_seconds": resolve[2],
            })  # fmt: skip
    return rows


def complaints_report(*, property_ids, date_from, date_to, group_by):
    """Per period, property and category: complaints filed, resolved and rated, and the
    average rating (1-5)."""
    metrics = [Metric.COMPLAINTS_FILED, Metric.COMPLAINTS_RESOLVED, Metric.COMPLAINTS_RATED]
    counters = _counters(metrics, ("category",), property_ids, date_from, date_to, group_by)
    rows = []
    for (start, property_id, category), counts in sorted(counters.items()):
        rated, stars = counts.get(Metric.COMPLAINTS_RATED, (0, 0))
        rows.append({
            "period": start, "property_id": property_id, "category": category,
            "filed": counts.get(Metric.COMPLAINTS_FILED, (0, 0))[0],
            "resolved": counts.get(Metric.COMPLAINTS_RESOLVED, (0, 0))[0],
            "rated": rated, "rating_avg": round(stars / rated, 2) if rated else None,
        })  # fmt: skip
    return rows


def visitors_report(*, property_ids, date_from, date_to, group_by):
    """Per period, property and hour of day (property's time zone): visitor arrivals."""
    counters = _counters(
        [Metric.VISITOR_ARRIVALS], ("category",), property_ids, date_from, date_to, group_by
    )
    return [
        {"period": start, "property_id": property_id, "hour": int(hour),
         "arrivals": counts[Metric.VISITOR_ARRIVALS][0]}
        for (start, property_id, hour), counts in sorted(counters.items())
    ]  # fmt: skip


def asset_report(*, property_ids=None, today=None):
    """Active (not retired) assets per property, category and condition: how many, their
    total value (cost), and how many warranties end within 30 and 90 days."""
    today = today or timezone.localdate()
    queryset = AssetSnapshot.objects.exclude(status=ASSET_RETIRED)
    if property_ids is not None:
        queryset = queryset.filter(property_id__in=property_ids)
    ending = {
        f"warranty_ending_{days}": Count(
            "id",
            filter=Q(warranty_end__gte=today, warranty_end__lte=today + timedelta(days=days)),
        )
        for days in WARRANTY_HORIZONS
    }
    return (
        queryset.values("property_id", "category", "condition")
        .annotate(assets=Count("id"), total_cost=Sum("cost"), **ending)
        .order_by("property_id", "category", "condition")
    )
