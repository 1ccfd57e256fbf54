from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from apps.properties.models import Property


class Asset(models.Model):
    """A building asset (lift, boiler, door...) with its condition and value."""

    class Category(models.TextChoices):
        LIFT = "lift", "Lift"
        BOILER = "boiler", "Boiler"
        DOOR = "door", "Door"
        HVAC = "hvac", "HVAC"
        ELECTRICAL = "electrical", "Electrical"
        PLUMBING = "plumbing", "Plumbing"
        OTHER = "other", "Other"

    class Condition(models.TextChoices):
        GOOD = "good", "Good"
        FAIR = "fair", "Fair"
        POOR = "poor", "Poor"
        BROKEN = "broken", "Broken"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="assets")
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=Category.choices)
    location = models.CharField(max_length=200, blank=True)
    serial = models.CharField(max_length=100, blank=True)
    purchase_date = models.DateField(null=True, blank=True)
    cost = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    condition = models.CharField(max_length=16, choices=Condition.choices, default=Condition.GOOD)
    warranty_end = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["property__name", "name", "id"]
        indexes = [models.Index(fields=["property", "status"], name="asset_property_status_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(cost__gte=0), name="asset_cost_not_negative"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_category_display()})"


class AssetEvent(models.Model):
    """The history of an asset: one row per change, with the version it produced."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        RETIRED = "retired", "Retired"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16, choices=Action.choices)
    version = models.PositiveIntegerField()
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["asset", "version"]

    def __str__(self):
        return f"{self.asset} {self.action} v{self.version}"
