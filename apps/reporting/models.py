from django.contrib.postgres.fields import ArrayField
from django.db import models


class Metric(models.TextChoices):
    REPAIRS_OPENED = "repairs_opened", "Repairs opened"
    REPAIRS_RESOLVED = "repairs_resolved", "Repairs resolved"
    REPAIRS_CANCELLED = "repairs_cancelled", "Repairs cancelled"
    COMPLAINTS_FILED = "complaints_filed", "Complaints filed"
    COMPLAINTS_RESOLVED = "complaints_resolved", "Complaints resolved"
    REPAIRS_REOPENED = "repairs_reopened", "Repairs reopened"
    COMPLAINTS_RATED = "complaints_rated", "Complaints rated"
    VISITOR_ARRIVALS = "visitor_arrivals", "Visitor arrivals"
    RESIDENTS_MOVED_IN = "residents_moved_in", "Residents moved in"
    RESIDENTS_MOVED_OUT = "residents_moved_out", "Residents moved out"
    PARCELS_RECEIVED = "parcels_received", "Parcels received"
    PARCELS_PICKED_UP = "parcels_picked_up", "Parcels picked up"
    PARCELS_RETURNED = "parcels_returned", "Parcels returned"
    # A histogram kept as counters: category is the duration's bucket ("000".."999",
    # facts.duration_bucket), count how many pickups took that long, total their seconds.
    PARCEL_PICKUP_TIME = "parcel_pickup_time", "Time to pick up a parcel"


OPEN_BACKLOG_CHANGE = {
    # How each repair counter moves the open backlog: opened and reopened repairs join
    # it, resolved and cancelled ones leave it (closing a resolved repair changes nothing).
    Metric.REPAIRS_OPENED: 1,
    Metric.REPAIRS_REOPENED: 1,
    Metric.REPAIRS_RESOLVED: -1,
    Metric.REPAIRS_CANCELLED: -1,
}


class DailyPropertyStat(models.Model):
    """A counter per property, day (in the property's time zone), metric, category and
    urgency ("" where a metric has none). Only ever incremented with an upsert (or mended
    by the reconciliation job). `total` sums a value per counted fact (rating stars for
    complaints_rated); for visitor_arrivals `category` is the hour of arrival, "00".."23";
    for parcel_pickup_time the duration's bucket (see Metric).
    """

    property_id = models.BigIntegerField()
    day = models.DateField()
    metric = models.CharField(max_length=32, choices=Metric.choices)
    category = models.CharField(max_length=64, blank=True, default="")
    urgency = models.CharField(max_length=32, blank=True, default="")
    count = models.PositiveIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "property_id", "metric", "category", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["property_id", "day", "metric", "category", "urgency"],
                name="daily_property_stat_key",
            ),
        ]
        indexes = [models.Index(fields=["property_id", "day"], name="daily_stat_property_day")]

    def __str__(self):
        return f"{self.property_id} {self.day} {self.metric} {self.category}/{self.urgency}"


class AppliedEvent(models.Model):
    """A domain fact already counted, e.g. ("repair", 42, "requested") or
    ("repair", 42, "status:v3"): a re-published event (new message id) counts once."""

    source = models.CharField(max_length=32)
    source_id = models.CharField(max_length=64)
    key = models.CharField(max_length=64)
    event = models.CharField(max_length=64)
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id", "key"], name="applied_event_once"
            ),
        ]

    def __str__(self):
        return f"{self.source}:{self.source_id}:{self.key}"


class AssetSnapshot(models.Model):
    """The newest known state of one asset; an event only replaces it when its version
    is newer, so late or out-of-order events never overwrite newer state."""

    asset_id = models.BigIntegerField(unique=True)
    property_id = models.BigIntegerField(db_index=True)
    category = models.CharField(max_length=64)
    condition = models.CharField(max_length=32)
    cost = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=32)
    warranty_end = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["property_id", "category", "asset_id"]

    def __str__(self):
        return f"asset {self.asset_id} v{self.version} ({self.status})"


class Measure(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Time to acknowledge"
    RESOLVE = "resolve", "Time to resolve"


class RepairPeriodStat(models.Model):
    """The repairs of one property, period, category and urgency: the counters that move
    the open backlog, and a histogram of time to acknowledge and of time to resolve.

    Kept per day, week and month (`span`; `day` is the period's first day), so that a
    report by month reads one row per month and group. (The daily counters are also in
    DailyPropertyStat, with every other metric.)

    A histogram is two arrays indexed by the duration's logarithmic bucket (position
    bucket + 1; see facts.duration_bucket): how many durations fell in it and their sum
    in seconds. Counts and sums are exact, so averages are exact and the 90th percentile
    is the mean of the bucket it falls in (within one bucket's width, about 10%). Merging
    histograms is adding arrays, so any period is answered without the raw rows.
    """

    property_id = models.BigIntegerField()
    span = models.CharField(max_length=8)
    day = models.DateField()
    category = models.CharField(max_length=64, blank=True, default="")
    urgency = models.CharField(max_length=32, blank=True, default="")
    opened = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    acknowledge_counts = ArrayField(models.BigIntegerField(), default=list)
    acknowledge_seconds = ArrayField(models.BigIntegerField(), default=list)
    resolve_counts = ArrayField(models.BigIntegerField(), default=list)
    resolve_seconds = ArrayField(models.BigIntegerField(), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "property_id", "span", "category", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["property_id", "span", "day", "category", "urgency"],
                name="repair_period_stat_key",
            ),
        ]

    def __str__(self):
        return f"{self.property_id} {self.span} {self.day} {self.category}/{self.urgency}"


class DutyNotice(models.Model):
    """A scheduled duty that already told someone, e.g. ("repair_sla", 42, "urgent-1h"):
    the unique key makes a job that runs twice, or concurrently, tell nobody twice."""

    duty = models.CharField(max_length=32)
    subject_id = models.CharField(max_length=64)
    level = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["duty", "subject_id", "level"], name="duty_notice_once"
            ),
        ]

    def __str__(self):
        return f"{self.duty}:{self.subject_id}:{self.level}"
