from django.db import models


class Metric(models.TextChoices):
    REPAIRS_OPENED = "repairs_opened", "Repairs opened"
    REPAIRS_RESOLVED = "repairs_resolved", "Repairs resolved"
    REPAIRS_CANCELLED = "repairs_cancelled", "Repairs cancelled"
    COMPLAINTS_FILED = "complaints_filed", "Complaints filed"
    COMPLAINTS_RESOLVED = "complaints_resolved", "Complaints resolved"
    VISITOR_ARRIVALS = "visitor_arrivals", "Visitor arrivals"


class DailyPropertyStat(models.Model):
    """A counter per property, day (the event's occurred_at date), metric, category and
    urgency ("" where a metric has none). Only ever incremented with an upsert."""

    property_id = models.BigIntegerField()
    day = models.DateField()
    metric = models.CharField(max_length=32, choices=Metric.choices)
    category = models.CharField(max_length=64, blank=True, default="")
    urgency = models.CharField(max_length=32, blank=True, default="")
    count = models.PositiveIntegerField(default=0)
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
    version = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["property_id", "category", "asset_id"]

    def __str__(self):
        return f"asset {self.asset_id} v{self.version} ({self.status})"
