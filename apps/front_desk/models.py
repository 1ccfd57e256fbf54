from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from apps.core.validators import NOTE_MAX_LENGTH, printable_line, text_field
from apps.core.workflow import StatusChange, WorkflowModel, status_fields

# What a barcode scanner types: letters, digits and dashes (no spaces).
tracking_number_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9-]*\Z",
    "A tracking number is letters, digits and '-', as the label's barcode reads.",
    code="invalid_tracking_number",
)
TRACKING_NUMBER_MAX_LENGTH = 64
PICKUP_CODE_LENGTH = 6


class Carrier(models.TextChoices):
    POSTAL = "postal", "Postal service"
    UPS = "ups", "UPS"
    FEDEX = "fedex", "FedEx"
    DHL = "dhl", "DHL"
    AMAZON = "amazon", "Amazon"
    COURIER = "courier", "Other courier"


class ParcelSize(models.TextChoices):
    ENVELOPE = "envelope", "Envelope"
    SMALL = "small", "Small"
    MEDIUM = "medium", "Medium"
    LARGE = "large", "Large"
    OVERSIZED = "oversized", "Oversized"


class ParcelStatus(models.TextChoices):
    WAITING = "waiting", "Waiting at the desk"
    PICKED_UP = "picked_up", "Picked up"
    RETURNED = "returned", "Returned to sender"


class Parcel(WorkflowModel):
    """A delivery held at the front desk for a resident, until picked up or returned.

    Parcels logged together for one resident share one pickup code, told to the resident
    when they arrive. `property` is denormalised from `unit` for staff scoping. The
    workflow is PARCEL_WORKFLOW in apps/front_desk/services.py.
    """

    property = models.ForeignKey(
        "properties.Property", on_delete=models.PROTECT, related_name="parcels"
    )
    unit = models.ForeignKey("properties.Unit", on_delete=models.PROTECT, related_name="parcels")
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="parcels"
    )
    carrier = models.CharField(max_length=16, choices=Carrier.choices)
    tracking_number = models.CharField(
        max_length=TRACKING_NUMBER_MAX_LENGTH, validators=[tracking_number_validator]
    )
    size = models.CharField(max_length=16, choices=ParcelSize.choices, default=ParcelSize.SMALL)
    storage_location = models.CharField(
        max_length=100,
        blank=True,
        validators=[printable_line],
        help_text='Where it is kept, e.g. "shelf B3".',
    )
    note = text_field(NOTE_MAX_LENGTH, blank=True)
    pickup_code = models.CharField(max_length=PICKUP_CODE_LENGTH)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=ParcelStatus.choices, default=ParcelStatus.WAITING
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who took it: the resident (by their code) or a person they authorised (named).
    picked_up_at = models.DateTimeField(null=True, blank=True)
    collected_by = models.CharField(max_length=200, blank=True, validators=[printable_line])
    returned_at = models.DateTimeField(null=True, blank=True)
    # Set once by the reminder job: a parcel is reminded of once.
    reminded_at = models.DateTimeField(null=True, blank=True)
    # Its resident moved out while it waited: the desk returns it or finds them.
    recipient_moved_out = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["property", "status"], name="parcel_property_status_idx"),
            models.Index(fields=["status", "created_at"], name="parcel_status_created_idx"),
            models.Index(fields=["resident", "status"], name="parcel_resident_status_idx"),
        ]

    def __str__(self):
        return f"Parcel #{self.pk} ({self.get_carrier_display()} {self.tracking_number})"


class ParcelStatusChange(StatusChange):
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="history")
    from_status, to_status = status_fields(ParcelStatus)


class DeskListSent(models.Model):
    """The daily list of parcels to return, sent for a property on a day: one a day,
    however often the job runs."""

    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    parcels = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["property", "day"], name="unique_desk_list_day")
        ]

    def __str__(self):
        return f"Parcels to return at property #{self.property_id} on {self.day}"
