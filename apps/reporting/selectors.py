"""Reads of the reporting app: every report is answered from the report tables, but the
amenities report, which reads the reservations themselves (a few thousand a year per
property)."""

import datetime
import math
from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from apps.amenities.models import RELEASED_STATUSES, Amenity, Reservation
from apps.amenities.selectors import amenity_zone, local_midnight
from apps.reporting.models import (
    OPEN_BACKLOG_CHANGE,
    AssetSnapshot,
    DailyPropertyStat,
    Metric,
    RepairPeriodStat,
)
from apps.reporting.periods import SPANS, period_next, period_start, periods
from apps.reporting.services import (
    ASSET_RETIRED,
    PERIOD_COUNTERS,
    PERIOD_VALUES,
    period_values_empty,
)

GROUP_BY = SPANS
WARRANTY_HORIZONS = (30, 90)
DAY = timedelta(days=1)


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
        _scoped(
            DailyPropertyStat.objects.filter(metric__in=metrics), property_ids, date_from, date_to
        )
        .annotate(period=_period(group_by))
        .values("period", "property_id", *group, "metric")
        .annotate(n=Sum("count"), sum=Sum("total"))
    )
    table = defaultdict(dict)
    for row in rows:
        key = (row["period"], row["property_id"], *(row[g] for g in group))
        table[key][row["metric"]] = (row["n"], row["sum"])
    return table


def histogram_p90(buckets):
    """The mean of the histogram bucket holding the 90th percentile: [(bucket, n, total)]."""
    return histogram_percentile(buckets, 0.9)


def histogram_percentile(buckets, fraction):
    """The mean of the histogram bucket holding the `fraction` percentile (0.5: the
    median), within one bucket's width: [(bucket, n, total seconds)]."""
    total = sum(n for _, n, _ in buckets)
    if not total:
        return None
    rank, seen = math.ceil(fraction * total), 0
    for _, n, seconds in sorted(buckets):
        seen += n
        if seen >= rank:
            return round(seconds / n)
    return None


def _histogram(counts, seconds):
    """(count, average, 90th percentile) of a histogram kept as arrays (services)."""
    total = sum(counts)
    if not total:
        return 0, None, None
    buckets = [
        (bucket, n, s) for bucket, (n, s) in enumerate(zip(counts, seconds, strict=True)) if n
    ]
    return total, round(sum(seconds) / total), histogram_p90(buckets)


def _values_add(into, values):
    """Add a RepairPeriodStat row's values (counters and histogram arrays) into `into`."""
    for at, value in enumerate(values):
        if not isinstance(value, list):
            into[at] += value
            continue
        into[at].extend([0] * (len(value) - len(into[at])))
        for bucket, n in enumerate(value):
            into[at][bucket] += n


def _repair_periods(property_ids, date_from, date_to, group_by):
    """{(period, property_id, category, urgency): PERIOD_VALUES} for date_from..date_to:
    a period the range covers whole from its own row, one it covers in part from the
    rows of its days in the range."""
    starts = periods(date_from, date_to, group_by)
    whole = [s for s in starts if s >= date_from and period_next(s, group_by) <= date_to + DAY]
    in_range = Q(span="day", day__gte=date_from, day__lte=date_to)
    if whole:
        whole_days = Q(day__gte=whole[0], day__lt=period_next(whole[-1], group_by))
        in_range = Q(span=group_by) & whole_days | in_range & ~whole_days
    rows = _scoped(RepairPeriodStat.objects.filter(in_range), property_ids).values_list(
        "day", "property_id", "category", "urgency", *PERIOD_VALUES
    )
    table = defaultdict(period_values_empty)
    for day, property_id, category, urgency, *values in rows:
        _values_add(table[(period_start(day, group_by), property_id, category, urgency)], values)
    return table


def _backlog_before(property_ids, day):
    """{(property_id, category, urgency): open backlog} at the start of `day`: whole months
    before it from their rows, then the days of its month."""
    month = period_start(day, "month")
    before = Q(span="month", day__lt=month) | Q(span="day", day__gte=month, day__lt=day)
    rows = (
        _scoped(RepairPeriodStat.objects.filter(before), property_ids)
        .values("property_id", "category", "urgency")
        .annotate(**{metric: Sum(metric) for metric in PERIOD_COUNTERS.values()})
    )
    return {
        (row["property_id"], row["category"], row["urgency"]): sum(
            OPEN_BACKLOG_CHANGE[metric] * row[field] for metric, field in PERIOD_COUNTERS.items()
        )
        for row in rows
    }


def repairs_report(*, property_ids, date_from, date_to, group_by):
    """Per period, property, category and urgency: repairs opened, resolved, cancelled,
    reopened, the open backlog at the end of the period, and time to acknowledge and to
    resolve (count, average and 90th percentile, seconds). Every group with a backlog or
    activity gets a row in every period, so backlogs can be summed per period."""
    repair_periods = _repair_periods(property_ids, date_from, date_to, group_by)
    backlog = defaultdict(int, _backlog_before(property_ids, date_from))
    groups = {key[1:] for key in repair_periods} | {key for key, n in backlog.items() if n}
    counters = list(PERIOD_COUNTERS.values())
    rows = []
    for start in periods(date_from, date_to, group_by):
        for key in sorted(groups):
            values = repair_periods.get((start, *key)) or period_values_empty()
            counts = dict(zip(counters, values, strict=False))
            backlog[key] += sum(
                OPEN_BACKLOG_CHANGE[metric] * counts[field]
                for metric, field in PERIOD_COUNTERS.items()
            )
            ack_counts, ack_seconds, resolve_counts, resolve_seconds = values[len(counters) :]
            ack = _histogram(ack_counts, ack_seconds)
            resolve = _histogram(resolve_counts, resolve_seconds)
            rows.append(
                {
                    "period": start,
                    "property_id": key[0],
                    "category": key[1],
                    "urgency": key[2],
                    **counts,
                    "backlog": backlog[key],
                    "acknowledged": ack[0],
                    "acknowledge_avg_seconds": ack[1],
                    "acknowledge_p90_seconds": ack[2],
                    "resolutions": resolve[0],
                    "resolve_avg_seconds": resolve[1],
                    "resolve_p90_seconds": resolve[2],
                }
            )
    return rows


def complaints_report(*, property_ids, date_from, date_to, group_by):
    """Per period, property and category: complaints filed, resolved and rated, and the
    average rating (1-5)."""
    metrics = [Metric.COMPLAINTS_FILED, Metric.COMPLAINTS_RESOLVED, Metric.COMPLAINTS_RATED]
    counters = _counters(metrics, ("category",), property_ids, date_from, date_to, group_by)
    rows = []
    for (start, property_id, category), counts in sorted(counters.items()):
        rated, stars = counts.get(Metric.COMPLAINTS_RATED, (0, 0))
        rows.append(
            {
                "period": start,
                "property_id": property_id,
                "category": category,
                "filed": counts.get(Metric.COMPLAINTS_FILED, (0, 0))[0],
                "resolved": counts.get(Metric.COMPLAINTS_RESOLVED, (0, 0))[0],
                "rated": rated,
                "rating_avg": round(stars / rated, 2) if rated else None,
            }
        )
    return rows


def visitors_report(*, property_ids, date_from, date_to, group_by):
    """Per period, property and hour of day (property's time zone): visitor arrivals."""
    counters = _counters(
        [Metric.VISITOR_ARRIVALS], ("category",), property_ids, date_from, date_to, group_by
    )
    return [
        {
            "period": start,
            "property_id": property_id,
            "hour": int(hour),
            "arrivals": counts[Metric.VISITOR_ARRIVALS][0],
        }
        for (start, property_id, hour), counts in sorted(counters.items())
    ]


def parcels_report(*, property_ids, date_from, date_to, group_by):
    """Per period and property: parcels received, picked up and returned, and the time
    from arrival to pickup of those picked up in the period (median and 90th percentile,
    seconds, each within a histogram bucket's width, about 10%)."""
    metrics = [Metric.PARCELS_RECEIVED, Metric.PARCELS_PICKED_UP, Metric.PARCELS_RETURNED]
    counters = _counters(metrics, (), property_ids, date_from, date_to, group_by)
    pickup_times = _counters(
        [Metric.PARCEL_PICKUP_TIME], ("category",), property_ids, date_from, date_to, group_by
    )
    buckets = defaultdict(list)
    for (start, property_id, bucket), counts in pickup_times.items():
        n, seconds = counts[Metric.PARCEL_PICKUP_TIME]
        buckets[(start, property_id)].append((int(bucket), n, seconds))
    rows = []
    for (start, property_id), counts in sorted(counters.items()):
        times = buckets.get((start, property_id), [])
        rows.append(
            {
                "period": start,
                "property_id": property_id,
                "received": counts.get(Metric.PARCELS_RECEIVED, (0, 0))[0],
                "picked_up": counts.get(Metric.PARCELS_PICKED_UP, (0, 0))[0],
                "returned": counts.get(Metric.PARCELS_RETURNED, (0, 0))[0],
                "pickup_median_seconds": histogram_percentile(times, 0.5),
                "pickup_p90_seconds": histogram_percentile(times, 0.9),
            }
        )
    return rows


def moves_report(*, property_ids, date_from, date_to, group_by):
    """Per period and property: residents who moved in and who moved out (the move job's
    residency.started and residency.ended, counted by the reporting consumer)."""
    metrics = [Metric.RESIDENTS_MOVED_IN, Metric.RESIDENTS_MOVED_OUT]
    counters = _counters(metrics, (), property_ids, date_from, date_to, group_by)
    return [
        {
            "period": start,
            "property_id": property_id,
            "moved_in": counts.get(Metric.RESIDENTS_MOVED_IN, (0, 0))[0],
            "moved_out": counts.get(Metric.RESIDENTS_MOVED_OUT, (0, 0))[0],
        }
        for (start, property_id), counts in sorted(counters.items())
    ]


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


def _open_hours(amenity, day):
    opens, closes = (
        datetime.datetime.combine(day, t) for t in (amenity.opens_at, amenity.closes_at)
    )
    return (closes - opens).total_seconds() / 3600


def amenities_report(*, property_ids, date_from, date_to, group_by):
    """Per period and amenity (a reservation counts in the property's day it starts):
    bookings (every reservation made), cancellations, no-shows, booked hours (place-hours
    of those that kept their time: not rejected or cancelled), open hours (place-hours
    open: each day's opening hours × capacity, closed days left out) and utilisation,
    booked / open. Read from the reservations themselves."""
    amenities = Amenity.objects.select_related("property").prefetch_related("closures")
    if property_ids is not None:
        amenities = amenities.filter(property_id__in=property_ids)
    amenities = {a.pk: a for a in amenities.order_by("property_id", "name", "id")}
    span = (
        local_midnight(date_from, datetime.UTC) - datetime.timedelta(days=1),
        local_midnight(date_to, datetime.UTC) + datetime.timedelta(days=2),
    )
    counts = {}
    for amenity_id, starts_at, ends_at, status in Reservation.objects.filter(
        amenity_id__in=amenities, starts_at__gte=span[0], starts_at__lt=span[1]
    ).values_list("amenity_id", "starts_at", "ends_at", "status"):
        day = starts_at.astimezone(amenity_zone(amenities[amenity_id])).date()
        if not date_from <= day <= date_to:
            continue
        row = counts.setdefault((period_start(day, group_by), amenity_id), [0, 0, 0, 0.0])
        row[0] += 1
        row[1] += status == "cancelled"
        row[2] += status == "no_show"
        if status not in RELEASED_STATUSES:
            row[3] += (ends_at - starts_at).total_seconds() / 3600
    rows = []
    for start in periods(date_from, date_to, group_by):
        last = min(period_next(start, group_by) - datetime.timedelta(days=1), date_to)
        days = [
            max(start, date_from) + datetime.timedelta(days=n)
            for n in range((last - max(start, date_from)).days + 1)
        ]
        for amenity in amenities.values():
            closed = amenity.closures.all()
            open_hours = amenity.capacity * sum(
                _open_hours(amenity, day)
                for day in days
                if not any(c.starts_on <= day <= c.ends_on for c in closed)
            )
            bookings, cancellations, no_shows, booked = counts.get((start, amenity.pk), [0] * 4)
            rows.append(
                {
                    "period": start,
                    "property_id": amenity.property_id,
                    "amenity_id": amenity.pk,
                    "amenity": amenity.name,
                    "bookings": bookings,
                    "cancellations": cancellations,
                    "no_shows": no_shows,
                    "booked_hours": round(booked, 2),
                    "open_hours": round(open_hours, 2),
                    "utilisation": round(booked / open_hours, 4) if open_hours else None,
                }
            )
    return rows
