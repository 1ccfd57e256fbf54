"""Reads of the amenities app: who sees which amenity and reservation, and the day's
slots of an amenity in its property's time zone (daylight-saving days included)."""

import datetime
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from apps.amenities.models import (
    RELEASED_STATUSES,
    Amenity,
    AmenityClosure,
    Reservation,
    ReservationStatusChange,
)
from apps.core.roles import Role, user_is_admin
from apps.properties.selectors import properties_for_area, properties_visible_to

# Managers (and admins) keep amenities and approve bookings: the managers-only area.
AREA = "management"


def amenity_zone(amenity):
    return zoneinfo.ZoneInfo(amenity.property.time_zone)


def local_midnight(day, zone):
    """The instant `day` begins in `zone` (midnight exists on every DST day in use)."""
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=zone)


def opening_window(amenity, day):
    """The (opens, closes) instants of `amenity` on the local `day`. Wall-clock times
    are read in the property's zone; one that falls in a spring-forward gap is read with
    the offset before the change (zoneinfo's fold=0), i.e. one hour later on the clock."""
    zone = amenity_zone(amenity)
    opens = datetime.datetime.combine(day, amenity.opens_at, tzinfo=zone)
    closes = datetime.datetime.combine(day, amenity.closes_at, tzinfo=zone)
    return opens.astimezone(datetime.UTC), closes.astimezone(datetime.UTC)


def day_slots(amenity, day):
    """The slots of the local `day`: from opening, every `slot_minutes` of real time,
    while a whole slot fits before closing. On the day clocks go forward an amenity open
    across the change has one hour's slots fewer; on the day they go back, more."""
    opens, closes = opening_window(amenity, day)
    step = datetime.timedelta(minutes=amenity.slot_minutes)
    slots, start = [], opens
    while start + step <= closes:
        slots.append((start, start + step))
        start += step
    return slots


def closure_on(amenity, day):
    """The closure covering the local `day`, if any."""
    return amenity.closures.filter(starts_on__lte=day, ends_on__gte=day).first()


def closure_span(closure):
    """The instants a closure covers: from its first day's midnight to the midnight after
    its last day, in the property's zone."""
    zone = amenity_zone(closure.amenity)
    return (
        local_midnight(closure.starts_on, zone),
        local_midnight(closure.ends_on + datetime.timedelta(days=1), zone),
    )


def live_reservations(amenity):
    """Reservations of `amenity` that hold their time (not rejected or cancelled)."""
    return Reservation.objects.filter(amenity=amenity).exclude(status__in=RELEASED_STATUSES)


def overlapping(amenity, starts_at, ends_at):
    return live_reservations(amenity).filter(starts_at__lt=ends_at, ends_at__gt=starts_at)


def places_taken(spans, start, end):
    """The most reservations among `spans` [(starts_at, ends_at)] that overlap one
    another anywhere in [start, end): the places of a shared amenity in use there."""
    edges = sorted(
        [(max(s, start), 1) for s, e in spans if s < end and e > start]
        + [(min(e, end), -1) for s, e in spans if s < end and e > start]
    )
    taken = peak = 0
    for _, change in edges:  # an end sorts before a start at the same instant
        taken += change
        peak = max(peak, taken)
    return peak


@dataclass(frozen=True)
class Slot:
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    places_left: int


def amenity_free_slots(amenity, day, *, now=None):
    """The slots of the local `day` that start later than `now` and have a place left,
    with how many; none on a closed day. One query for the day's reservations."""
    now = now or timezone.now()
    if not amenity.is_active or closure_on(amenity, day) is not None:
        return []
    slots = day_slots(amenity, day)
    if not slots:
        return []
    spans = list(
        overlapping(amenity, slots[0][0], slots[-1][1]).values_list("starts_at", "ends_at")
    )
    free = []
    for start, end in slots:
        left = amenity.capacity - places_taken(spans, start, end)
        if start > now and left > 0:
            free.append(Slot(start, end, left))
    return free


def amenities_visible_to(user):
    """Residents: the active amenities of the properties they live in; managers: those of
    their properties; admins: all; other roles: none."""
    amenities = Amenity.objects.select_related("property")
    if not user.is_authenticated:
        return amenities.none()
    if user.role == Role.RESIDENT and not user_is_admin(user):
        return amenities.filter(property__in=properties_visible_to(user), is_active=True)
    return amenities.filter(property__in=properties_for_area(user, AREA))


def amenities_managed_by(user):
    return Amenity.objects.select_related("property").filter(
        property__in=properties_for_area(user, AREA)
    )


def reservations_visible_to(user):
    """Residents: their own reservations; managers: their properties'; admins: all."""
    reservations = Reservation.objects.select_related("amenity__property", "unit", "resident")
    if not user.is_authenticated:
        return reservations.none()
    if user.role == Role.RESIDENT and not user_is_admin(user):
        return reservations.filter(resident=user)
    return reservations.filter(property__in=properties_for_area(user, AREA))


def reservation_history(reservation):
    return ReservationStatusChange.objects.filter(reservation=reservation).select_related(
        "changed_by"
    )


def closures_of(amenity):
    return AmenityClosure.objects.filter(amenity=amenity)
