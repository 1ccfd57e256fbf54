"""Amenities (the gym, the party room, the service lift) and their reservations.

The rules that two bookers could break by racing are held by PostgreSQL: an exclusion
constraint (btree_gist, tstzrange) keeps the live reservations of an exclusive amenity
from overlapping; a shared amenity's capacity is checked under the amenity's row lock
(apps/amenities/services.py `reservation_book`; README "Amenities").
"""

import datetime

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q

from apps.core.validators import NOTE_MAX_LENGTH, printable_line, text_field
from apps.core.workflow import StatusChange, WorkflowModel, status_fields


class AmenityKind(models.TextChoices):
    GYM = "gym", "Gym"
    PARTY_ROOM = "party_room", "Party room"
    GUEST_SUITE = "guest_suite", "Guest suite"
    SERVICE_LIFT = "service_lift", "Service lift"
    OTHER = "other", "Other"


class Amenity(models.Model):
    """A shared space of a property that residents book by the slot.

    Opening hours are wall-clock times in the property's time zone, the same every day;
    slots start at `opens_at` and follow each other every `slot_minutes` of real time, so
    a day on which the clocks change has one slot fewer or more."""

    property = models.ForeignKey(
        "properties.Property", on_delete=models.PROTECT, related_name="amenities"
    )
    name = models.CharField(max_length=100, validators=[printable_line])
    kind = models.CharField(max_length=16, choices=AmenityKind.choices)
    opens_at = models.TimeField(default=datetime.time(8, 0))
    closes_at = models.TimeField(
        default=datetime.time(22, 0), help_text="After opens_at, the same day."
    )
    slot_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    max_booking_minutes = models.PositiveSmallIntegerField(
        default=120,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="The longest booking; a multiple of the slot length.",
    )
    capacity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="1: exclusive (one booking at a time); N: N people at once.",
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="How many days ahead residents may book.",
    )
    weekly_limit = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Bookings per resident per week (Monday to Sunday); empty: no limit.",
    )
    needs_approval = models.BooleanField(default=False)
    cancellation_deadline_hours = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(24 * 30)],
        help_text="Residents may cancel until this many hours before the start.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["property__name", "name"]
        verbose_name_plural = "amenities"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="amenity_closes_after_opening"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="amenity_capacity_positive"),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5) & Q(max_booking_minutes__gte=F("slot_minutes")),
                name="amenity_booking_at_least_one_slot",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.property})"

    def clean(self):
        if self.closes_at and self.opens_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "Closing time must be after opening time."})
        if self.slot_minutes and self.max_booking_minutes % self.slot_minutes:
            raise ValidationError(
                {
                    "max_booking_minutes": "The longest booking must be a whole number of slots "
                    f"({self.slot_minutes} minutes each)."
                }
            )


class AmenityClosure(models.Model):
    """Days on which an amenity is closed (both dates included, the property's days);
    announcing one cancels the bookings it covers."""

    amenity = models.ForeignKey(Amenity, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = text_field(NOTE_MAX_LENGTH)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="closure_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.amenity.name} closed {self.starts_on}–{self.ends_on}"


class ReservationStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CONFIRMED = "confirmed", "Confirmed"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"


# A reservation in one of these no longer holds its time.
RELEASED_STATUSES = (ReservationStatus.REJECTED, ReservationStatus.CANCELLED)


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


EXCLUSIVE_OVERLAP_CONSTRAINT = "reservation_exclusive_no_overlap"


class Reservation(WorkflowModel):
    """A resident's booking of an amenity from `starts_at` to `ends_at` (half-open).

    `exclusive` copies the amenity's capacity == 1 at booking time so that the exclusion
    constraint (which sees one row at a time) knows which rows it governs; `property` and
    `unit` are denormalised for scoping. The workflow is RESERVATION_WORKFLOW in
    apps/amenities/services.py."""

    amenity = models.ForeignKey(Amenity, on_delete=models.PROTECT, related_name="reservations")
    property = models.ForeignKey(
        "properties.Property", on_delete=models.PROTECT, related_name="reservations"
    )
    unit = models.ForeignKey("properties.Unit", on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reservations"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    exclusive = models.BooleanField()
    status = models.CharField(
        max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.REQUESTED
    )
    version = models.PositiveIntegerField(default=1)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["amenity", "starts_at"], name="reservation_amenity_start_idx"),
            models.Index(fields=["resident", "starts_at"], name="reservation_resident_idx"),
            models.Index(fields=["property", "status"], name="reservation_property_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="reservation_ends_after_start"
            ),
            ExclusionConstraint(
                name=EXCLUSIVE_OVERLAP_CONSTRAINT,
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("amenity", RangeOperators.EQUAL),
                ],
                condition=Q(exclusive=True) & ~Q(status__in=RELEASED_STATUSES),
            ),
        ]

    def __str__(self):
        return f"Reservation #{self.pk} ({self.amenity.name})"


class ReservationStatusChange(StatusChange):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="history")
    from_status, to_status = status_fields(ReservationStatus)
