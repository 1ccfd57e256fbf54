"""Report facts: what one domain fact adds to the report tables.

The reporting consumer builds a fact from a typed event (`fact_from_event`), the
reconciliation job builds the same facts with the same functions from the source rows,
read under the events' field names (`facts_from_rows`); both are folded the same way,
so a recomputation agrees with what the events kept.

A fact is keyed (source, source_id, key) in AppliedEvent, so it counts once however
often its event arrives, and it counts on the day (in the property's time zone) when it
happened, whatever order the events arrive in.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from django.db.models import F, Value

from apps.assets import events as asset_events
from apps.complaints.events import (
    CHANGE_STATUS,
    COMPLAINT_FILED,
    COMPLAINT_RATED,
    COMPLAINT_UPDATED,
)
from apps.complaints.models import Complaint, ComplaintStatus, ComplaintStatusChange
from apps.front_desk.events import PARCEL_ARRIVED, PARCEL_STATUS_CHANGED
from apps.front_desk.models import Parcel, ParcelStatus, ParcelStatusChange
from apps.properties.events import RESIDENCY_ENDED, RESIDENCY_STARTED
from apps.properties.selectors import residencies_moved
from apps.repairs.events import REPAIR_REQUESTED, REPAIR_STATUS_CHANGED
from apps.repairs.models import RepairRequest, RepairStatus, RepairStatusChange
from apps.reporting.models import Measure, Metric
from apps.visitors.events import VISITOR_ARRIVED
from apps.visitors.models import Visitor

# Durations go into logarithmic buckets 10% wide (about 160 buckets up to two months).
DURATION_BUCKET_GROWTH = 1.1


def duration_bucket(seconds):
    return int(math.log1p(max(seconds, 0)) / math.log(DURATION_BUCKET_GROWTH))


@dataclass(frozen=True)
class Counter:
    metric: str
    category: str = ""
    urgency: str = ""
    total: int = 0


@dataclass(frozen=True)
class Duration:
    measure: str
    seconds: int
    category: str = ""
    urgency: str = ""


@dataclass
class ReportFact:
    source: str
    source_id: int
    key: str
    event: str
    property_id: int
    at: datetime
    counters: list = field(default_factory=list)
    durations: list = field(default_factory=list)


# Each fact is built from its event's fields; the reconciliation reads the same fields
# (by the same names) from the source rows.

# --- repairs ------------------------------------------------------------------------
REPAIR_STATUS_METRICS = {
    RepairStatus.RESOLVED: Metric.REPAIRS_RESOLVED,
    RepairStatus.CANCELLED: Metric.REPAIRS_CANCELLED,
    RepairStatus.REOPENED: Metric.REPAIRS_REOPENED,
}


def repair_requested_fact(repair):
    return ReportFact(
        "repair",
        repair.repair_id,
        "requested",
        REPAIR_REQUESTED,
        repair.property_id,
        repair.requested_at,
        counters=[Counter(Metric.REPAIRS_OPENED, repair.category, repair.urgency)],
    )


def repair_status_fact(change):
    """Resolved, cancelled and reopened repairs move the counters; the acknowledgement of
    a new request and every resolution add a duration measured from the request."""
    fact = ReportFact(
        "repair",
        change.repair_id,
        f"status:v{change.version}",
        REPAIR_STATUS_CHANGED,
        change.property_id,
        change.changed_at,
    )
    metric = REPAIR_STATUS_METRICS.get(change.status)
    if metric is not None:
        fact.counters.append(Counter(metric, change.category, change.urgency))
    measure = None
    if change.status == RepairStatus.ACKNOWLEDGED and change.from_status == RepairStatus.SUBMITTED:
        measure = Measure.ACKNOWLEDGE
    elif change.status == RepairStatus.RESOLVED:
        measure = Measure.RESOLVE
    if measure is not None:
        seconds = int((change.changed_at - change.requested_at).total_seconds())
        fact.durations.append(Duration(measure, seconds, change.category, change.urgency))
    return fact if fact.counters or fact.durations else None


# --- complaints ---------------------------------------------------------------------
def complaint_filed_fact(complaint):
    return ReportFact(
        "complaint",
        complaint.complaint_id,
        "filed",
        COMPLAINT_FILED,
        complaint.property_id,
        complaint.occurred_at,
        counters=[Counter(Metric.COMPLAINTS_FILED, complaint.category)],
    )


def complaint_resolved_fact(update):
    """A complaint update counts when it resolved the complaint (the workflow resolves
    a complaint at most once); a reply, or another status, reports nothing."""
    if update.change != CHANGE_STATUS or update.status != ComplaintStatus.RESOLVED:
        return None
    return ReportFact(
        "complaint",
        update.complaint_id,
        "resolved",
        COMPLAINT_UPDATED,
        update.property_id,
        update.occurred_at,
        counters=[Counter(Metric.COMPLAINTS_RESOLVED, update.category)],
    )


def complaint_rated_fact(complaint):
    return ReportFact(
        "complaint",
        complaint.complaint_id,
        "rated",
        COMPLAINT_RATED,
        complaint.property_id,
        complaint.rated_at,
        counters=[Counter(Metric.COMPLAINTS_RATED, complaint.category, total=complaint.rating)],
    )


# --- visitors -----------------------------------------------------------------------
def visitor_arrived_fact(visitor):
    # The hour of arrival is filled in when the fact is folded (it needs the time zone).
    return ReportFact(
        "visitor",
        visitor.visitor_id,
        "arrived",
        VISITOR_ARRIVED,
        visitor.property_id,
        visitor.arrived_at or visitor.occurred_at,
        counters=[Counter(Metric.VISITOR_ARRIVALS)],
    )


# --- parcels ------------------------------------------------------------------------
def parcel_arrived_fact(parcel):
    return ReportFact(
        "parcel",
        parcel.parcel_id,
        "arrived",
        PARCEL_ARRIVED,
        parcel.property_id,
        parcel.arrived_at,
        counters=[Counter(Metric.PARCELS_RECEIVED)],
    )


def parcel_status_fact(change):
    """A pickup counts, with its time since arrival (a histogram bucket); so does a return.
    Both steps are final: each happens once per parcel."""
    fact = ReportFact(
        "parcel",
        change.parcel_id,
        change.status,
        PARCEL_STATUS_CHANGED,
        change.property_id,
        change.changed_at,
    )
    if change.status == ParcelStatus.PICKED_UP:
        fact.counters.append(Counter(Metric.PARCELS_PICKED_UP))
        seconds = max(int((change.changed_at - change.arrived_at).total_seconds()), 0)
        bucket = f"{duration_bucket(seconds):03d}"
        fact.counters.append(Counter(Metric.PARCEL_PICKUP_TIME, bucket, total=seconds))
    elif change.status == ParcelStatus.RETURNED:
        fact.counters.append(Counter(Metric.PARCELS_RETURNED))
    return fact if fact.counters else None


# --- moves ----------------------------------------------------------------------------
MOVE_METRICS = {
    RESIDENCY_STARTED: Metric.RESIDENTS_MOVED_IN,
    RESIDENCY_ENDED: Metric.RESIDENTS_MOVED_OUT,
}


def residency_move_fact(move):
    """A move-in (residency.started) or a move-out (residency.ended): once each per
    residency."""
    return ReportFact(
        "residency",
        move.residency_id,
        move.NAME.split(".")[1],
        move.NAME,
        move.property_id,
        move.at,
        counters=[Counter(MOVE_METRICS[move.NAME])],
    )


# The events the reporting consumer counts, each with the builder of its fact (None when
# that event's instance reports nothing, e.g. a complaint reply).
# celeryconfig subscribes reporting.record_event to exactly these (tested).
EVENT_FACTS = {
    REPAIR_REQUESTED: repair_requested_fact,
    REPAIR_STATUS_CHANGED: repair_status_fact,
    COMPLAINT_FILED: complaint_filed_fact,
    COMPLAINT_UPDATED: complaint_resolved_fact,
    COMPLAINT_RATED: complaint_rated_fact,
    VISITOR_ARRIVED: visitor_arrived_fact,
    PARCEL_ARRIVED: parcel_arrived_fact,
    PARCEL_STATUS_CHANGED: parcel_status_fact,
    RESIDENCY_STARTED: residency_move_fact,
    RESIDENCY_ENDED: residency_move_fact,
}
# The events the asset snapshot consumer is subscribed to (celeryconfig; tested).
ASSET_EVENTS = frozenset(
    {asset_events.ASSET_CREATED, asset_events.ASSET_UPDATED, asset_events.ASSET_RETIRED}
)


def fact_from_event(event):
    """The fact a typed event reports, or None. KeyError for an event not in EVENT_FACTS."""
    return EVENT_FACTS[event.NAME](event)


def _repair_versions(changes):
    """The repair's version after each change: the number of its workflow steps so far
    (submission is step 1), as the repairs app counts them."""
    step = {}
    history = RepairStatusChange.objects.filter(
        repair_id__in={change.repair_id for change in changes}
    ).order_by("repair_id", "changed_at", "id")
    previous, number = None, 0
    for change_id, repair_id in history.values_list("id", "repair_id"):
        number = number + 1 if repair_id == previous else 1
        previous = repair_id
        step[change_id] = number
    return [step[change.id] for change in changes]


def _rows(queryset, **fields):
    """The rows as objects with the fields of the events (`name=F(...)`, or the column
    of that name)."""
    names = {name: value for name, value in fields.items() if value is not None}
    plain = [name for name, value in fields.items() if value is None]
    return (SimpleNamespace(**row) for row in queryset.values(*plain, **names))


def facts_from_rows(start, end, property_ids=None):
    """Every fact that happened in [start, end) according to the source rows."""

    def scoped(queryset, prop="property_id"):
        if property_ids is None:
            return queryset
        return queryset.filter(**{f"{prop}__in": property_ids})

    repairs = scoped(RepairRequest.objects.filter(created_at__gte=start, created_at__lt=end))
    yield from map(
        repair_requested_fact,
        _rows(
            repairs,
            repair_id=F("id"),
            property_id=None,
            category=None,
            urgency=None,
            requested_at=F("created_at"),
        ),
    )
    changes = scoped(
        RepairStatusChange.objects.filter(
            changed_at__gte=start,
            changed_at__lt=end,
            to_status__in=[
                RepairStatus.ACKNOWLEDGED,
                *REPAIR_STATUS_METRICS,
            ],
        ),
        "repair__property_id",
    ).select_related("repair")
    changes = list(changes)
    for change, version in zip(changes, _repair_versions(changes), strict=True):
        repair = change.repair
        fact = repair_status_fact(
            SimpleNamespace(
                repair_id=repair.id,
                property_id=repair.property_id,
                category=repair.category,
                urgency=repair.urgency,
                version=version,
                from_status=change.from_status,
                status=change.to_status,
                changed_at=change.changed_at,
                requested_at=repair.created_at,
            )
        )
        if fact is not None:
            yield fact
    complaints = scoped(Complaint.objects.filter(created_at__gte=start, created_at__lt=end))
    yield from map(
        complaint_filed_fact,
        _rows(
            complaints,
            complaint_id=F("id"),
            property_id=None,
            category=None,
            occurred_at=F("created_at"),
        ),
    )
    resolutions = scoped(
        ComplaintStatusChange.objects.filter(
            changed_at__gte=start, changed_at__lt=end, to_status=ComplaintStatus.RESOLVED
        ),
        "complaint__property_id",
    )
    yield from map(
        complaint_resolved_fact,
        _rows(
            resolutions,
            complaint_id=None,
            property_id=F("complaint__property_id"),
            category=F("complaint__category"),
            occurred_at=F("changed_at"),
            change=Value(CHANGE_STATUS),
            status=F("to_status"),
        ),
    )
    rated = scoped(Complaint.objects.filter(rated_at__gte=start, rated_at__lt=end))
    yield from map(
        complaint_rated_fact,
        _rows(
            rated.exclude(rating=None),
            complaint_id=F("id"),
            property_id=None,
            category=None,
            rating=None,
            rated_at=None,
        ),
    )
    visitors = scoped(Visitor.objects.filter(arrived_at__gte=start, arrived_at__lt=end))
    yield from map(
        visitor_arrived_fact,
        _rows(
            visitors,
            visitor_id=F("id"),
            property_id=None,
            arrived_at=None,
        ),
    )
    parcels = scoped(Parcel.objects.filter(created_at__gte=start, created_at__lt=end))
    yield from map(
        parcel_arrived_fact,
        _rows(
            parcels,
            parcel_id=F("id"),
            property_id=None,
            arrived_at=F("created_at"),
        ),
    )
    handed = scoped(
        ParcelStatusChange.objects.filter(
            changed_at__gte=start,
            changed_at__lt=end,
            to_status__in=[ParcelStatus.PICKED_UP, ParcelStatus.RETURNED],
        ),
        "parcel__property_id",
    )
    yield from map(
        parcel_status_fact,
        _rows(
            handed,
            parcel_id=None,
            property_id=F("parcel__property_id"),
            status=F("to_status"),
            changed_at=None,
            arrived_at=F("parcel__created_at"),
        ),
    )
    for move in MOVE_METRICS:
        for residency_id, property_id, at in residencies_moved(
            move.split(".")[1], start, end, property_ids
        ):
            yield residency_move_fact(
                SimpleNamespace(
                    NAME=move,
                    residency_id=residency_id,
                    property_id=property_id,
                    at=at,
                )
            )
