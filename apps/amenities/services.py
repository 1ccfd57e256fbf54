"""Writes of the amenities app: keeping amenities and closures, booking, and moving a
reservation through its workflow (RESERVATION_WORKFLOW below, run by apps/core/workflow.py).

Concurrency. For exclusive amenities PostgreSQL itself refuses an overlap (the
exclusion constraint on the reservation's tstzrange, models.py), whoever writes the row:
the service turns that refusal into 409, and takes no lock. A booking that must count
(places of a shared amenity, a weekly limit) first takes the amenity's row lock
(`SELECT … FOR UPDATE`), so such bookings of one amenity commit one after another and
each reads what the one before committed (READ COMMITTED takes a new snapshot per
statement): the count is never stale.
"""

import datetime
from functools import partial

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.amenities import events
from apps.amenities.models import (
    EXCLUSIVE_OVERLAP_CONSTRAINT,
    Amenity,
    AmenityClosure,
    Reservation,
    ReservationStatus,
)
from apps.amenities.selectors import (
    AREA,
    amenity_zone,
    closure_on,
    closure_span,
    live_reservations,
    local_midnight,
    opening_window,
    overlapping,
    places_taken,
)
from apps.core.errors import Conflict, Invalid
from apps.core.workflow import RESIDENT, STAFF, Guard, Workflow
from apps.notifications.services import notifications_request_for, notifications_request_over
from apps.properties.selectors import (
    current_residencies,
    staff_for_property,
    workflow_access_check,
    workflow_actor,
    workflow_actor_required,
)

REMINDER_BEFORE = datetime.timedelta(hours=1)
NOTICE_CATEGORY = "general"

S = ReservationStatus
# The statuses a reservation can be cancelled from (a closure, a move-out, the resident).
CANCELLABLE = (S.REQUESTED, S.APPROVED, S.CONFIRMED)
# Staff: the property's managers and admins; resident: who booked.
RESERVATION_WORKFLOW = Workflow(
    model=Reservation,
    noun="reservation",
    statuses=ReservationStatus,
    actor_of=partial(workflow_actor, area=AREA),
    transitions={
        (S.REQUESTED, S.APPROVED): {STAFF},
        (S.REQUESTED, S.REJECTED): {STAFF},
        (S.REQUESTED, S.CANCELLED): {RESIDENT, STAFF},
        (S.APPROVED, S.CONFIRMED): {STAFF},
        (S.APPROVED, S.CANCELLED): {RESIDENT, STAFF},
        (S.CONFIRMED, S.COMPLETED): {STAFF},
        (S.CONFIRMED, S.NO_SHOW): {STAFF},
        (S.CONFIRMED, S.CANCELLED): {RESIDENT, STAFF},
    },
    guards={
        S.COMPLETED: Guard(
            allows=lambda reservation, now: now >= reservation.starts_at,
            reason="A reservation can be completed only once it has started.",
        ),
        S.NO_SHOW: Guard(
            allows=lambda reservation, now: now >= reservation.starts_at,
            reason="A no-show can be marked only once the reservation has started.",
        ),
        S.CANCELLED: Guard(
            allows=lambda reservation, now: now < reservation.ends_at,
            reason="A reservation that has ended cannot be cancelled.",
        ),
    },
)


# --- who may do what ---------------------------------------------------------------


def reservation_actor_authorize(user):
    return workflow_actor_required(user, AREA)


def reservation_book_authorize(user):
    return workflow_actor_required(user, AREA, RESIDENT, message="Only residents book amenities.")


def reservation_transition_authorize(user, to_status):
    """Raise PermissionDenied when the user's role may never move a reservation to
    `to_status`."""
    return RESERVATION_WORKFLOW.authorize_target(reservation_actor_authorize(user), to_status)


def amenity_manage_authorize(user):
    """Managers (of the amenity's property, by scoping) and admins keep amenities."""
    if workflow_actor(user, AREA) != STAFF:
        raise PermissionDenied("Only managers and administrators manage amenities.")
    return True


def _amenity_manage_check(user, amenity):
    from apps.amenities.selectors import amenities_managed_by

    amenity_manage_authorize(user)
    if not amenities_managed_by(user).filter(pk=amenity.pk).exists():
        raise PermissionDenied("You do not manage this amenity's property.")


# --- amenities and closures ----------------------------------------------------------


def amenity_save(*, user, amenity):
    """Create or update an amenity on behalf of a manager of its property (or an admin)."""
    _amenity_manage_check(user, amenity) if amenity.pk else amenity_manage_authorize(user)
    amenity.full_clean()
    amenity.save()
    return amenity


def amenity_closure_announce(*, user, amenity, starts_on, ends_on, reason):
    """Close `amenity` from `starts_on` to `ends_on` (the property's days, both included).
    The closure is committed with `amenity.closure_announced`, whose consumer cancels the
    bookings it covers and tells each resident once; bookings in it are refused from the
    commit on. `user=None`: the property office (demo data, scripts)."""
    if user is not None:
        _amenity_manage_check(user, amenity)
    if ends_on < starts_on:
        raise Invalid("The closure must end on or after its first day.", field="ends_on")
    with transaction.atomic():
        closure = AmenityClosure.objects.create(
            amenity=amenity,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
            created_by=user,
        )
        events.closure_announced(closure)
    return closure


# --- booking -------------------------------------------------------------------------


def _booking_check(amenity, starts_at, ends_at, now):
    """The rules a booking's time must keep (400 naming the field and the reason)."""
    if not amenity.is_active:
        raise Invalid("This amenity is not open for booking.", field="amenity")
    if ends_at <= starts_at:
        raise Invalid("The end must be after the start.", field="ends_at")
    if starts_at <= now:
        raise Invalid("The start must be in the future.", field="starts_at")
    horizon = now + datetime.timedelta(days=amenity.booking_horizon_days)
    if starts_at > horizon:
        raise Invalid(
            f"Too far ahead: {amenity.name} can be booked at most "
            f"{amenity.booking_horizon_days} days ahead.",
            field="starts_at",
        )
    zone = amenity_zone(amenity)
    day = starts_at.astimezone(zone).date()
    closure = closure_on(amenity, day)
    if closure is not None:
        raise Invalid(
            f"{amenity.name} is closed from {closure.starts_on} to {closure.ends_on}: "
            f"{closure.reason}",
            field="starts_at",
        )
    opens, closes = opening_window(amenity, day)
    if starts_at < opens or ends_at > closes:
        raise Invalid(
            f"Outside opening hours: {amenity.name} is open from {amenity.opens_at:%H:%M} "
            f"to {amenity.closes_at:%H:%M} ({zone.key}).",
            field="starts_at" if starts_at < opens else "ends_at",
        )
    slot = datetime.timedelta(minutes=amenity.slot_minutes)
    if (starts_at - opens) % slot:
        raise Invalid(
            f"Bookings start on the slot grid: every {amenity.slot_minutes} minutes from "
            f"{amenity.opens_at:%H:%M}.",
            field="starts_at",
        )
    if (ends_at - starts_at) % slot:
        raise Invalid(
            f"A booking lasts whole slots of {amenity.slot_minutes} minutes.", field="ends_at"
        )
    if ends_at - starts_at > datetime.timedelta(minutes=amenity.max_booking_minutes):
        raise Invalid(
            f"Too long: the longest booking is {amenity.max_booking_minutes} minutes.",
            field="ends_at",
        )


def _weekly_limit_check(amenity, resident, starts_at):
    """Under the amenity's lock: the resident's live bookings of the amenity in the
    booking's week (Monday to Sunday, the property's days)."""
    if amenity.weekly_limit is None:
        return
    zone = amenity_zone(amenity)
    day = starts_at.astimezone(zone).date()
    monday = day - datetime.timedelta(days=day.weekday())
    week = (local_midnight(monday, zone), local_midnight(monday + datetime.timedelta(7), zone))
    booked = (
        live_reservations(amenity)
        .filter(resident=resident, starts_at__gte=week[0], starts_at__lt=week[1])
        .count()
    )
    if booked >= amenity.weekly_limit:
        raise Invalid(
            f"Weekly limit reached: {amenity.weekly_limit} booking(s) of {amenity.name} "
            f"per resident per week, and you have {booked} in the week of {monday}.",
            field="starts_at",
        )


def _capacity_check(amenity, starts_at, ends_at):
    """Under the amenity's lock: a shared amenity has a place left all along the time."""
    spans = overlapping(amenity, starts_at, ends_at).values_list("starts_at", "ends_at")
    if places_taken(list(spans), starts_at, ends_at) >= amenity.capacity:
        raise Conflict(
            f"{amenity.name} is full then: all {amenity.capacity} places are booked.",
            places_left=0,
        )


def _exclusive_overlap(error):
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == EXCLUSIVE_OVERLAP_CONSTRAINT


def _start(resident, amenity, unit, starts_at, ends_at, status):
    """RESERVATION_WORKFLOW's first step, leaving the overlap rule to the database (a
    model validation would turn it into a 400 and race anyway)."""
    reservation = Reservation(
        amenity=amenity,
        property=amenity.property,
        unit=unit,
        resident=resident,
        starts_at=starts_at,
        ends_at=ends_at,
        exclusive=amenity.capacity == 1,
        status=status,
        version=1,
    )
    reservation.save()
    reservation.record_status("", by=resident, at=reservation.created_at)
    return reservation


def reservation_book(*, resident, amenity, starts_at, ends_at, now=None):
    """A resident with a residency in force at the amenity's property books it.

    400 (Invalid, naming the field) for a time outside the rules; 409 (Conflict) when the
    time is taken. Confirmed at once, or requested when the amenity needs approval; the
    event is published in the same transaction."""
    reservation_book_authorize(resident)
    now = now or timezone.now()
    residency = current_residencies(resident).filter(unit__property_id=amenity.property_id).first()
    if residency is None:
        raise Invalid("You do not live at this amenity's property.", field="amenity")
    _booking_check(amenity, starts_at, ends_at, now)
    status = S.REQUESTED if amenity.needs_approval else S.CONFIRMED
    try:
        with transaction.atomic():
            if amenity.capacity > 1 or amenity.weekly_limit is not None:
                amenity = (
                    Amenity.objects.select_for_update()
                    .select_related("property")
                    .get(pk=amenity.pk)
                )
                _weekly_limit_check(amenity, resident, starts_at)
                if amenity.capacity > 1:
                    _capacity_check(amenity, starts_at, ends_at)
            reservation = _start(resident, amenity, residency.unit, starts_at, ends_at, status)
            events.reservation_booked(reservation)
            if status == S.CONFIRMED:
                _reminder_schedule(reservation, now)
    except IntegrityError as error:
        if not _exclusive_overlap(error):
            raise
        raise Conflict(f"{amenity.name} is already booked then.", places_left=0) from None
    return reservation


def _reminder_schedule(reservation, now):
    remind_at = reservation.starts_at - REMINDER_BEFORE
    if remind_at > now:
        events.reminder_due(reservation, remind_at)


def _resident_cancel_check(reservation, user, actor):
    workflow_access_check(reservation, user, actor, AREA)
    if actor == RESIDENT and reservation.status in CANCELLABLE:
        deadline = reservation.starts_at - datetime.timedelta(
            hours=reservation.amenity.cancellation_deadline_hours
        )
        if timezone.now() > deadline:
            raise RESERVATION_WORKFLOW.refuse(
                reservation,
                S.CANCELLED,
                reason=f"Residents may cancel until "
                f"{reservation.amenity.cancellation_deadline_hours} hours before the start.",
            )


def reservation_transition(*, reservation, to_status, user, note="", expected_version=None):
    """Move a reservation to `to_status` on behalf of `user` (None: the property office,
    acting as staff). Approving confirms in the same transaction (requested → approved →
    confirmed, two history rows) and schedules the reminder. 403 for a step the role never
    takes or someone else's reservation; 409 naming the allowed steps, a resident's
    cancellation past the deadline, or a stale `expected_version`."""
    actor = STAFF if user is None else reservation_transition_authorize(user, to_status)
    check = None if user is None else partial(_resident_cancel_check, user=user, actor=actor)
    with transaction.atomic():
        reservation, change = RESERVATION_WORKFLOW.transition(
            reservation,
            to_status,
            user=user,
            actor=actor,
            note=note,
            expected_version=expected_version,
            check_access=check,
        )
        events.reservation_status_changed(reservation, change)
        if to_status == S.APPROVED:
            reservation, change = RESERVATION_WORKFLOW.transition(
                reservation, S.CONFIRMED, user=user, actor=STAFF, note=note
            )
            events.reservation_status_changed(reservation, change)
        if reservation.status == S.CONFIRMED:
            _reminder_schedule(reservation, timezone.now())
    return reservation


def reservation_cancel(*, reservation, user, note=""):
    return reservation_transition(
        reservation=reservation, to_status=S.CANCELLED, user=user, note=note
    )


# --- what the consumer does ------------------------------------------------------------


def _variables(reservation):
    zone = amenity_zone(reservation.amenity)
    return {
        "reservation_id": reservation.pk,
        "amenity": reservation.amenity.name,
        "property": reservation.property.name,
        "starts": f"{reservation.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
        "ends": f"{reservation.ends_at.astimezone(zone):%H:%M}",
        "status": reservation.get_status_display(),
    }


def _tell(recipients, template, variables):
    """One notice to each of `recipients` in-app and one by email."""
    return notifications_request_over(
        recipients,
        channels=("in_app", "email"),
        template=template,
        category=NOTICE_CATEGORY,
        variables=variables,
    )


def _reservation(reservation_id):
    return Reservation.objects.select_related("amenity__property", "property", "resident").get(
        pk=reservation_id
    )


def reservation_booked_announce(reservation_id):
    """A new booking: one waiting for approval is told to the property's managers, one
    confirmed at once to the resident (in-app and email each)."""
    reservation = _reservation(reservation_id)
    if reservation.status == S.REQUESTED:
        recipients, template = (
            list(staff_for_property(reservation.property_id, [Role.MANAGER])),
            "reservation_requested_staff",
        )
    elif reservation.status == S.CONFIRMED and reservation.version == 1:
        recipients, template = [reservation.resident], "reservation_status_resident"
    else:  # already moved on: the status change tells it
        return []
    return _tell(recipients, template, _variables(reservation))


# The steps the resident is told of: confirmed (at once or approved), rejected, and a
# cancellation by staff (the office's own, by a closure, is told by the closure's notice).
ANNOUNCED = {S.CONFIRMED, S.REJECTED, S.CANCELLED}


def reservation_status_announce(reservation_id, version, changed_by_id):
    """Tell the resident their reservation's new status (in-app and email). An event older
    than the reservation's version is skipped, so an approval that confirmed at once is
    told once, as confirmed."""
    reservation = _reservation(reservation_id)
    if version < reservation.version or reservation.status not in ANNOUNCED:
        return []
    if reservation.status == S.CANCELLED and changed_by_id in (None, reservation.resident_id):
        return []
    return _tell([reservation.resident], "reservation_status_resident", _variables(reservation))


def reservation_remind(reservation_id, *, now=None):
    """The reminder an hour before: once (reminded_at, under the row lock), and only for
    a reservation still confirmed and not yet started."""
    now = now or timezone.now()
    with transaction.atomic():
        reservation = (
            Reservation.objects.select_for_update(of=("self",))
            .select_related("amenity__property", "property", "resident")
            .get(pk=reservation_id)
        )
        if (
            reservation.status != S.CONFIRMED
            or reservation.reminded_at
            or reservation.starts_at <= now
        ):
            return []
        reservation.reminded_at = now
        reservation.save(update_fields=["reminded_at"])
        return notifications_request_for(
            [reservation.resident],
            channel="in_app",
            template="reservation_reminder",
            category=NOTICE_CATEGORY,
            variables=_variables(reservation),
        )


def _office_cancel(reservations, note):
    """Cancel each of `reservations` that has not started (a workflow step by the office,
    which tells nobody itself); the cancelled ones by resident."""
    cancelled_by_resident = {}
    for reservation in reservations.select_related("amenity__property", "property", "resident"):
        reservation = reservation_transition(
            reservation=reservation, to_status=S.CANCELLED, user=None, note=note
        )
        cancelled_by_resident.setdefault(reservation.resident, []).append(reservation)
    return cancelled_by_resident


def amenity_closure_apply(closure_id, *, now=None):
    """Cancel the live bookings a closure covers that have not started (each a workflow
    step by the office) and tell each resident once, listing theirs."""
    now = now or timezone.now()
    closure = AmenityClosure.objects.select_related("amenity__property").get(pk=closure_id)
    start, end = closure_span(closure)
    covered = (
        live_reservations(closure.amenity)
        .filter(status__in=CANCELLABLE)
        .filter(starts_at__lt=end, ends_at__gt=start, starts_at__gt=now)
    )
    note = f"Closed {closure.starts_on}–{closure.ends_on}: {closure.reason}"
    sent = []
    for resident, reservations in _office_cancel(covered, note).items():
        variables = {
            "amenity": closure.amenity.name,
            "property": closure.amenity.property.name,
            "starts_on": str(closure.starts_on),
            "ends_on": str(closure.ends_on),
            "reason": closure.reason,
            "bookings": [_variables(r)["starts"] for r in reservations],
        }
        sent += _tell([resident], "amenity_closure_resident", variables)
    return sent


def reservations_cancel_for_move_out(*, resident_id, unit_id, now=None):
    """A resident moved out of `unit_id` (the residency.ended consumer): cancel the live
    bookings they made as its resident that have not started (each a workflow step by the
    office; the move job runs after their last day, so these start after the end) and
    tell them once, listing them."""
    upcoming = Reservation.objects.filter(
        resident_id=resident_id,
        unit_id=unit_id,
        status__in=CANCELLABLE,
        starts_at__gt=now or timezone.now(),
    ).order_by("starts_at", "pk")
    sent = []
    for resident, reservations in _office_cancel(upcoming, "The resident moved out.").items():
        variables = {
            "property": reservations[0].property.name,
            "bookings": [
                f"{r.amenity.name} {_variables(r)['starts']}–{_variables(r)['ends']}"
                for r in reservations
            ],
        }
        sent += _tell([resident], "reservation_move_out_resident", variables)
    return sent
