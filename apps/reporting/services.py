"""Writes of the reporting app: fold domain events into report tables, and mend them.

Safe against duplicates and disorder: every event is turned into a report fact
(apps/reporting/facts.py) guarded per domain fact in AppliedEvent (a re-published event
with a new message id still counts once), each fact counts on the day it happened in the
property's time zone (not when processed), counters and histograms only ever add, and
asset snapshots only move forward in version.

`report_period_reconcile` recomputes a period from the source rows with the same facts
and rewrites whatever drifted, logging each change.
"""

import logging
import zoneinfo
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction

from apps.assets.models import Asset
from apps.core.sql import values_execute
from apps.properties.models import Property
from apps.reporting.facts import (
    ASSET_EVENTS,
    EVENT_FACTS,
    duration_bucket,
    fact_from_event,
    facts_from_rows,
)
from apps.reporting.models import (
    AppliedEvent,
    AssetSnapshot,
    DailyPropertyStat,
    Measure,
    Metric,
    RepairPeriodStat,
)
from apps.reporting.periods import SPANS, period_next, period_start

logger = logging.getLogger(__name__)


class UnknownReportEventError(ValueError):
    """An event the reporting consumer does not know: permanent (dead-lettered)."""


ASSET_RETIRED = "retired"

COUNTER_KEY = ("property_id", "day", "metric", "category", "urgency")
PERIOD_KEY = ("property_id", "span", "day", "category", "urgency")
# A RepairPeriodStat row's values: the counters, then the two histograms (as arrays).
PERIOD_COUNTERS = {
    Metric.REPAIRS_OPENED: "opened",
    Metric.REPAIRS_RESOLVED: "resolved",
    Metric.REPAIRS_CANCELLED: "cancelled",
    Metric.REPAIRS_REOPENED: "reopened",
}
PERIOD_HISTOGRAMS = {
    Measure.ACKNOWLEDGE: ("acknowledge_counts", "acknowledge_seconds"),
    Measure.RESOLVE: ("resolve_counts", "resolve_seconds"),
}
PERIOD_VALUES = (
    *PERIOD_COUNTERS.values(),
    *(f for fields in PERIOD_HISTOGRAMS.values() for f in fields),
)


def property_zones(property_ids):
    """Each property's time zone (settings.TIME_ZONE for one not known here)."""
    default = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    zones = dict.fromkeys(property_ids, default)
    for property_id, name in Property.objects.filter(id__in=property_ids).values_list(
        "id", "time_zone"
    ):
        zones[property_id] = zoneinfo.ZoneInfo(name)
    return zones


def period_values_empty():
    return [0] * len(PERIOD_COUNTERS) + [[] for _ in range(2 * len(PERIOD_HISTOGRAMS))]


def _histogram_add(values, measure, seconds):
    """Count a duration in its bucket of `values`' histogram of `measure` (arrays grow)."""
    at = len(PERIOD_COUNTERS) + 2 * list(PERIOD_HISTOGRAMS).index(measure)
    counts, sums = values[at], values[at + 1]
    bucket = duration_bucket(seconds)
    if len(counts) <= bucket:
        counts.extend([0] * (bucket + 1 - len(counts)))
        sums.extend([0] * (bucket + 1 - len(sums)))
    counts[bucket] += 1
    sums[bucket] += seconds


def facts_fold(facts, zones):
    """Sum facts, on their local day, into daily counter rows {COUNTER_KEY: [count, total]}
    and repair period rows {PERIOD_KEY: PERIOD_VALUES} (in each span's period)."""
    counters = defaultdict(lambda: [0, 0])
    repair_periods = defaultdict(period_values_empty)
    for fact in facts:
        local = fact.at.astimezone(zones[fact.property_id])
        for counter in fact.counters:
            # Visitor arrivals are broken down by the hour they arrived.
            hourly = counter.metric == Metric.VISITOR_ARRIVALS
            category = f"{local.hour:02d}" if hourly else counter.category
            key = (fact.property_id, local.date(), str(counter.metric), category, counter.urgency)
            counters[key][0] += 1
            counters[key][1] += counter.total
            if counter.metric in PERIOD_COUNTERS:
                at = list(PERIOD_COUNTERS).index(counter.metric)
                for span in SPANS:
                    key = (
                        fact.property_id,
                        span,
                        period_start(local.date(), span),
                        counter.category,
                        counter.urgency,
                    )
                    repair_periods[key][at] += 1
        for duration in fact.durations:
            for span in SPANS:
                key = (
                    fact.property_id,
                    span,
                    period_start(local.date(), span),
                    duration.category,
                    duration.urgency,
                )
                _histogram_add(repair_periods[key], duration.measure, duration.seconds)
    return counters, repair_periods


def _upsert(model, key_fields, value_fields, rows, *, add):
    """Insert rows {key: values} in one statement; on conflict add to (add=True) or
    replace the values."""
    if not rows:
        return
    table = model._meta.db_table
    columns = [*key_fields, *value_fields]

    def added(f):
        if not isinstance(model._meta.get_field(f), ArrayField):
            return f"{table}.{f} + EXCLUDED.{f}"
        # Arrays (histograms) add element by element; the longer one sets the length.
        return (
            f"ARRAY(SELECT coalesce({table}.{f}[i], 0) + coalesce(EXCLUDED.{f}[i], 0) "
            f"FROM generate_series(1, greatest(cardinality({table}.{f}), "
            f"cardinality(EXCLUDED.{f}))) AS i ORDER BY i)"
        )

    assign = ", ".join(f"{f} = {added(f) if add else f'EXCLUDED.{f}'}" for f in value_fields)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}, updated_at) VALUES %s "
        f"ON CONFLICT ({', '.join(key_fields)}) DO UPDATE SET {assign}, updated_at = now()"
    )
    values_execute(
        sql,
        [[*key, *values] for key, values in rows.items()],
        template=f"({', '.join(['%s'] * len(columns))}, now())",
    )


def _applied_event_record(fact):
    """Record a domain fact; False when it was already applied."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AppliedEvent._meta.db_table} "
            "(source, source_id, key, event, applied_at) VALUES (%s, %s, %s, %s, now()) "
            "ON CONFLICT DO NOTHING RETURNING id",
            [fact.source, str(fact.source_id), fact.key, fact.event],
        )
        return cursor.fetchone() is not None


def report_event_record(event):
    """Fold one typed domain event into the report tables; True when something was
    counted. An event reporting is not subscribed to raises UnknownReportEventError.
    """
    if event.NAME not in EVENT_FACTS:
        raise UnknownReportEventError(f"reporting does not know event {event.NAME!r}")
    fact = fact_from_event(event)
    if fact is None:
        return False
    # In the consumer's transaction: no savepoint (two statements per message), an error
    # rolls the whole message back anyway.
    with transaction.atomic(savepoint=False):
        if not _applied_event_record(fact):
            logger.info("%s %s %s already counted", fact.source, fact.source_id, fact.key)
            return False
        counters, repair_periods = facts_fold([fact], property_zones([fact.property_id]))
        _upsert(DailyPropertyStat, COUNTER_KEY, ("count", "total"), counters, add=True)
        _upsert(RepairPeriodStat, PERIOD_KEY, PERIOD_VALUES, repair_periods, add=True)
    return True


def _snapshot_upsert(cursor, values):
    table = AssetSnapshot._meta.db_table
    cursor.execute(
        f"INSERT INTO {table} "
        "(asset_id, property_id, category, condition, cost, status, warranty_end, version, "
        "occurred_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now()) "
        "ON CONFLICT (asset_id) DO UPDATE SET property_id = EXCLUDED.property_id, "
        "category = EXCLUDED.category, condition = EXCLUDED.condition, "
        "cost = EXCLUDED.cost, status = EXCLUDED.status, warranty_end = EXCLUDED.warranty_end, "
        "version = EXCLUDED.version, occurred_at = EXCLUDED.occurred_at, updated_at = now() "
        f"WHERE {table}.version < EXCLUDED.version RETURNING id",
        values,
    )
    return cursor.fetchone() is not None


def asset_snapshot_record(event):
    """Upsert the asset's snapshot unless a newer (or the same) version is already stored.

    Returns True when the snapshot changed.
    """
    if event.NAME not in ASSET_EVENTS:
        raise UnknownReportEventError(f"asset reporting does not know event {event.NAME!r}")
    status = ASSET_RETIRED if event.NAME == "asset.retired" else (event.status or "active")
    with connection.cursor() as cursor:
        return _snapshot_upsert(
            cursor,
            [
                event.asset_id,
                event.property_id,
                event.category,
                event.condition,
                event.cost,
                status,
                event.warranty_end,
                event.version,
                event.occurred_at,
            ],
        )


# --- reconciliation -------------------------------------------------------------------
def _stored(model, key_fields, value_fields, date_from, date_to, property_ids, **only):
    rows = model.objects.select_for_update().filter(day__gte=date_from, day__lte=date_to, **only)
    if property_ids is not None:
        rows = rows.filter(property_id__in=property_ids)
    return {
        tuple(row[: -len(value_fields)]): list(row[-len(value_fields) :])
        for row in rows.values_list(*key_fields, *value_fields)
    }


def _mend(model, key_fields, value_fields, expected, stored):
    """Rewrite rows that differ from `expected`; delete stored rows it lacks."""
    wrong = {key: values for key, values in expected.items() if stored.get(key) != values}
    stray = [key for key, values in stored.items() if key not in expected and any(values)]
    for key, values in wrong.items():
        logger.warning(
            "reconcile %s %s: %s -> %s", model._meta.model_name, key, stored.get(key), values
        )
    for key in stray:
        logger.warning("reconcile %s %s: %s -> none", model._meta.model_name, key, stored[key])
        model.objects.filter(**dict(zip(key_fields, key, strict=True))).delete()
    _upsert(model, key_fields, value_fields, wrong, add=False)
    return len(wrong) + len(stray)


def _asset_snapshots_mend(property_ids):
    """Bring every asset's snapshot up to the asset row, where the row is newer or differs."""
    assets = (
        Asset.objects.all()
        if property_ids is None
        else Asset.objects.filter(property_id__in=property_ids)
    )
    stored = {s.asset_id: s for s in AssetSnapshot.objects.filter(asset_id__in=assets.values("id"))}
    changed = 0
    with connection.cursor() as cursor:
        for asset in assets:
            values = [
                asset.id,
                asset.property_id,
                asset.category,
                asset.condition,
                asset.cost,
                asset.status,
                asset.warranty_end,
                asset.version,
                asset.updated_at,
            ]
            snapshot = stored.get(asset.id)
            current = snapshot and [
                snapshot.asset_id,
                snapshot.property_id,
                snapshot.category,
                snapshot.condition,
                snapshot.cost,
                snapshot.status,
                snapshot.warranty_end,
                snapshot.version,
            ]
            if current == values[:-1]:
                continue
            if snapshot is not None:
                # Same or newer version but wrong: let the mend win.
                AssetSnapshot.objects.filter(asset_id=asset.id).update(version=0)
            _snapshot_upsert(cursor, values)
            logger.warning("reconcile asset snapshot %s: %s -> %s", asset.id, current, values)
            changed += 1
    return changed


def report_period_reconcile(date_from, date_to, property_ids=None):
    """Recompute the report rows of days date_from..date_to (inclusive, each property's
    local days) from the source rows and mend what drifted; also bring asset snapshots
    up to the assets. Returns how many rows it changed, per table.

    The facts it counts are marked applied, so an event still on its way for one of
    them does not count it again; stored rows are locked while being compared.
    """
    # Every week and month the range touches is recomputed whole, and local days of any
    # zone lie within a day either side of the UTC days.
    first = min(period_start(date_from, span) for span in SPANS)
    last = max(period_next(period_start(date_to, span), span) for span in SPANS)
    start = datetime.combine(first - timedelta(days=1), time.min, tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    with transaction.atomic():
        facts = list(facts_from_rows(start, end, property_ids))
        zones = property_zones({fact.property_id for fact in facts} | set(property_ids or ()))
        local_day = {id(f): f.at.astimezone(zones[f.property_id]).date() for f in facts}
        AppliedEvent.objects.bulk_create(
            [
                AppliedEvent(source=f.source, source_id=str(f.source_id), key=f.key, event=f.event)
                for f in facts
                if date_from <= local_day[id(f)] <= date_to
            ],
            ignore_conflicts=True,
        )
        counters, _ = facts_fold(
            [f for f in facts if date_from <= local_day[id(f)] <= date_to], zones
        )
        _, repair_periods = facts_fold(
            [f for f in facts if first <= local_day[id(f)] < last], zones
        )
        changed = {
            "counters": _mend(
                DailyPropertyStat,
                COUNTER_KEY,
                ("count", "total"),
                counters,
                _stored(
                    DailyPropertyStat,
                    COUNTER_KEY,
                    ("count", "total"),
                    date_from,
                    date_to,
                    property_ids,
                ),
            ),
            "repair_periods": sum(
                _mend(
                    RepairPeriodStat,
                    PERIOD_KEY,
                    PERIOD_VALUES,
                    {
                        k: v
                        for k, v in repair_periods.items()
                        if k[1] == span and period_start(date_from, span) <= k[2] <= date_to
                    },
                    _stored(
                        RepairPeriodStat,
                        PERIOD_KEY,
                        PERIOD_VALUES,
                        period_start(date_from, span),
                        date_to,
                        property_ids,
                        span=span,
                    ),
                )
                for span in SPANS
            ),
            "assets": _asset_snapshots_mend(property_ids),
        }
    logger.info("reconciled reports %s..%s: %s", date_from, date_to, changed)
    return changed
