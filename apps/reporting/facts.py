"""Report facts: what one domain fact adds to the report tables.

The reporting consumer builds a fact from an event (`fact_from_event`), the
reconciliation job builds the same facts from the source rows (`facts_from_rows`); both
are folded the same way, so a recomputation agrees with what the events kept.

A fact is keyed (source, source_id, key) in AppliedEvent, so it counts once however
often its event arrives, and it counts on the day (in the property's time zone) when it
happened, whatever order the events arrive in.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone

from apps.assets import events as asset_events
from apps.complaints.events import COMPLAINT_FILED, COMPLAINT_RATED, COMPLAINT_UPDATED
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


def parse_time(value):
    if not value:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment


# --- repairs ------------------------------------------------------------------------
REPAIR_STATUS_METRICS = {
    RepairStatus.RESOLVED: Metric.REPAIRS_RESOLVED,
    RepairStatus.CANCELLED: Metric.REPAIRS_CANCELLED,
    RepairStatus.REOPENED: Metric.REPAIRS_REOPENED,
}


def repair_requested_fact(*, repair_id, property_id, category, urgency, requested_at):
    return ReportFact(
        "repair", repair_id, "requested", "repair.requested", property_id, requested_at,
        counters=[Counter(Metric.REPAIRS_OPENED, category, urgency)],
    )  # fmt: skip


def repair_status_fact(
    *, repair_id, property_id, category, urgency, version, from_status, status, changed_at,
    requested_at,
):  # fmt: skip
    """Resolved, cancelled and reopened repairs move the counters; the acknowledgement of
    a new request and every resolution add a duration measured from the request."""
    fact = ReportFact(
        "repair", repair_id, f"status:v{version}", "repair.status_changed", property_id,
        changed_at,
    )  # fmt: skip
    metric = REPAIR_STATUS_METRICS.get(status)
    if metric is not None:
        fact.counters.append(Counter(metric, category, urgency))
    measure = None
    if status == RepairStatus.ACKNOWLEDGED and from_status == RepairStatus.SUBMITTED:
        measure = Measure.ACKNOWLEDGE
    elif status == RepairStatus.RESOLVED:
        measure = Measure.RESOLVE
    if measure is not None and requested_at is not None:
        seconds = int((changed_at - requested_at).total_seconds())
        fact.durations.append(Duration(measure, seconds, category, urgency))
    return fact if fact.counters or fact.durations else None


def _repair_requested(envelope, at):
    data = envelope["data"]
    return repair_requested_fact(
        repair_id=data["repair_id"],
        property_id=data["property_id"],
        category=data.get("category") or "",
        urgency=data.get("urgency") or "",
        requested_at=parse_time(data.get("requested_at")) or at,
    )


def _repair_status_changed(envelope, at):
    data = envelope["data"]
    return repair_status_fact(
        repair_id=data["repair_id"],
        property_id=data["property_id"],
        category=data.get("category") or "",
        urgency=data.get("urgency") or "",
        version=data["version"],
        from_status=data.get("from_status") or "",
        status=data["status"],
        changed_at=parse_time(data.get("changed_at")) or at,
        requested_at=parse_time(data.get("requested_at")),
    )


# --- complaints ---------------------------------------------------------------------
def complaint_filed_fact(*, complaint_id, property_id, category, at):
    return ReportFact(
        "complaint", complaint_id, "filed", "complaint.filed", property_id, at,
        counters=[Counter(Metric.COMPLAINTS_FILED, category)],
    )  # fmt: skip


def complaint_resolved_fact(*, complaint_id, property_id, category, at):
    # The workflow resolves a complaint at most once.
    return ReportFact(
        "complaint", complaint_id, "resolved", "complaint.updated", property_id, at,
        counters=[Counter(Metric.COMPLAINTS_RESOLVED, category)],
    )  # fmt: skip


def complaint_rated_fact(*, complaint_id, property_id, category, rating, at):
    return ReportFact(
        "complaint", complaint_id, "rated", "complaint.rated", property_id, at,
        counters=[Counter(Metric.COMPLAINTS_RATED, category, total=int(rating))],
    )  # fmt: skip


def _complaint_filed(envelope, at):
    data = envelope["data"]
    return complaint_filed_fact(
        complaint_id=data["complaint_id"],
        property_id=data["property_id"],
        category=data.get("category") or "",
        at=at,
    )


def _complaint_updated(envelope, at):
    data = envelope["data"]
    if data.get("change") != "status" or data.get("status") != ComplaintStatus.RESOLVED:
        return None
    return complaint_resolved_fact(
        complaint_id=data["complaint_id"],
        property_id=data["property_id"],
        category=data.get("category") or "",
        at=at,
    )


def _complaint_rated(envelope, at):
    data = envelope["data"]
    return complaint_rated_fact(
        complaint_id=data["complaint_id"],
        property_id=data["property_id"],
        category=data.get("category") or "",
        rating=data["rating"],
        at=parse_time(data.get("rated_at")) or at,
    )


# --- visitors -----------------------------------------------------------------------
def visitor_arrived_fact(*, visitor_id, property_id, at):
    # The hour of arrival is filled in when the fact is folded (it needs the time zone).
    return ReportFact(
        "visitor", visitor_id, "arrived", "visitor.arrived", property_id, at,
        counters=[Counter(Metric.VISITOR_ARRIVALS)],
    )  # fmt: skip


def _visitor_arrived(envelope, at):
    data = envelope["data"]
    return visitor_arrived_fact(
        visitor_id=data["visitor_id"],
        property_id=data["property_id"],
        at=parse_time(data.get("arrived_at")) or at,
    )


# --- parcels ------------------------------------------------------------------------
def parcel_arrived_fact(*, parcel_id, property_id, at):
    return ReportFact(
        "parcel", parcel_id, "arrived", PARCEL_ARRIVED, property_id, at,
        counters=[Counter(Metric.PARCELS_RECEIVED)],
    )  # fmt: skip


def parcel_status_fact(*, parcel_id, property_id, status, changed_at, arrived_at):
    """A pickup counts, with its time since arrival (a histogram bucket); so does a return.
    Both steps are final: each happens once per parcel."""
    fact = ReportFact("parcel", parcel_id, status, PARCEL_STATUS_CHANGED, property_id, changed_at)
    if status == ParcelStatus.PICKED_UP:
        fact.counters.append(Counter(Metric.PARCELS_PICKED_UP))
        if arrived_at is not None:
            seconds = max(int((changed_at - arrived_at).total_seconds()), 0)
            bucket = f"{duration_bucket(seconds):03d}"
            fact.counters.append(Counter(Metric.PARCEL_PICKUP_TIME, bucket, total=seconds))
    elif status == ParcelStatus.RETURNED:
        fact.counters.append(Counter(Metric.PARCELS_RETURNED))
    return fact if fact.counters else None


def _parcel_arrived(envelope, at):
    data = envelope["data"]
    return parcel_arrived_fact(
        parcel_id=data["parcel_id"],
        property_id=data["property_id"],
        at=parse_time(data.get("arrived_at")) or at,
    )


def _parcel_status_changed(envelope, at):
    data = envelope["data"]
    return parcel_status_fact(
        parcel_id=data["parcel_id"],
        property_id=data["property_id"],
        status=data["status"],
        changed_at=parse_time(data.get("changed_at")) or at,
        arrived_at=parse_time(data.get("arrived_at")),
    )


# --- moves ----------------------------------------------------------------------------
MOVE_METRICS = {"started": Metric.RESIDENTS_MOVED_IN, "ended": Metric.RESIDENTS_MOVED_OUT}


def residency_move_fact(*, residency_id, property_id, move, at):
    """A move-in ("started") or a move-out ("ended"): once each per residency."""
    return ReportFact(
        "residency", residency_id, move, f"residency.{move}", property_id, at,
        counters=[Counter(MOVE_METRICS[move])],
    )  # fmt: skip


def _residency_move(move):
    def build(envelope, at):
        data = envelope["data"]
        return residency_move_fact(
            residency_id=data["residency_id"], property_id=data["property_id"], move=move,
            at=parse_time(data.get("at")) or at,
        )  # fmt: skip

    return build


# The events the reporting consumer counts, each with the builder of its fact (None when
# that event's instance reports nothing, e.g. a complaint reply).
# celeryconfig subscribes reporting.record_event to exactly these (tested).
EVENT_FACTS = {
    REPAIR_REQUESTED: _repair_requested,
    REPAIR_STATUS_CHANGED: _repair_status_changed,
    COMPLAINT_FILED: _complaint_filed,
    COMPLAINT_UPDATED: _complaint_updated,
    COMPLAINT_RATED: _complaint_rated,
    VISITOR_ARRIVED: _visitor_arrived,
    PARCEL_ARRIVED: _parcel_arrived,
    PARCEL_STATUS_CHANGED: _parcel_status_changed,
    RESIDENCY_STARTED: _residency_move("started"),
    RESIDENCY_ENDED: _residency_move("ended"),
}
# The events the asset snapshot consumer is subscribed to (celeryconfig; tested).
ASSET_EVENTS = frozenset(
    {asset_events.ASSET_CREATED, asset_events.ASSET_UPDATED, asset_events.ASSET_RETIRED}
)


def fact_from_event(envelope):
    """The fact an event reports, or None. KeyError for an event not in EVENT_FACTS."""
    builder = EVENT_FACTS[envelope["event"]]
    return builder(envelope, parse_time(envelope["occurred_at"]))


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


def facts_from_rows(start, end, property_ids=None):
    """Every fact that happened in [start, end) according to the source rows."""

    def scoped(queryset, prop="property_id"):
        if property_ids is None:
            return queryset
        return queryset.filter(**{f"{prop}__in": property_ids})

    repairs = scoped(RepairRequest.objects.filter(created_at__gte=start, created_at__lt=end))
    for repair in repairs.only("id", "property_id", "category", "urgency", "created_at"):
        yield repair_requested_fact(
            repair_id=repair.id, property_id=repair.property_id, category=repair.category,
            urgency=repair.urgency, requested_at=repair.created_at,
        )  # fmt: skip
    changes = scoped(
        RepairStatusChange.objects.filter(
            changed_at__gte=start, changed_at__lt=end, to_status__in=[
                RepairStatus.ACKNOWLEDGED, *REPAIR_STATUS_METRICS,
            ],
        ), "repair__property_id",
    ).select_related("repair")  # fmt: skip
    changes = list(changes)
    for change, version in zip(changes, _repair_versions(changes), strict=True):
        repair = change.repair
        fact = repair_status_fact(
            repair_id=repair.id, property_id=repair.property_id, category=repair.category,
            urgency=repair.urgency, version=version, from_status=change.from_status,
            status=change.to_status, changed_at=change.changed_at,
            requested_at=repair.created_at,
        )  # fmt: skip
        if fact is not None:
            yield fact
    complaints = scoped(Complaint.objects.filter(created_at__gte=start, created_at__lt=end))
    for complaint in complaints.only("id", "property_id", "category", "created_at"):
        yield complaint_filed_fact(
            complaint_id=complaint.id, property_id=complaint.property_id,
            category=complaint.category, at=complaint.created_at,
        )  # fmt: skip
    resolutions = scoped(
        ComplaintStatusChange.objects.filter(
            changed_at__gte=start, changed_at__lt=end, to_status=ComplaintStatus.RESOLVED
        ), "complaint__property_id",
    ).select_related("complaint")  # fmt: skip
    for change in resolutions:
        yield complaint_resolved_fact(
            complaint_id=change.complaint_id, property_id=change.complaint.property_id,
            category=change.complaint.category, at=change.changed_at,
        )  # fmt: skip
    rated = scoped(Complaint.objects.filter(rated_at__gte=start, rated_at__lt=end))
    for complaint in rated.exclude(rating=None):
        yield complaint_rated_fact(
            complaint_id=complaint.id, property_id=complaint.property_id,
            category=complaint.category, rating=complaint.rating, at=complaint.rated_at,
        )  # fmt: skip
    visitors = scoped(Visitor.objects.filter(arrived_at__gte=start, arrived_at__lt=end))
    for visitor in visitors.only("id", "property_id", "arrived_at"):
        yield visitor_arrived_fact(
            visitor_id=visitor.id, property_id=visitor.property_id, at=visitor.arrived_at
        )
    parcels = scoped(Parcel.objects.filter(created_at__gte=start, created_at__lt=end))
    for parcel in parcels.only("id", "property_id", "created_at"):
        yield parcel_arrived_fact(
            parcel_id=parcel.id, property_id=parcel.property_id, at=parcel.created_at
        )
    handed = scoped(
        ParcelStatusChange.objects.filter(
            changed_at__gte=start, changed_at__lt=end,
            to_status__in=[ParcelStatus.PICKED_UP, ParcelStatus.RETURNED],
        ), "parcel__property_id",
    ).select_related("parcel")  # fmt: skip
    for change in handed:
        yield parcel_status_fact(
            parcel_id=change.parcel_id, property_id=change.parcel.property_id,
            status=change.to_status, changed_at=change.changed_at,
            arrived_at=change.parcel.created_at,
        )  # fmt: skip
    for move in MOVE_METRICS:
        for residency_id, property_id, at in residencies_moved(move, start, end, property_ids):
            yield residency_move_fact(
                residency_id=residency_id, property_id=property_id, move=move, at=at
            )
