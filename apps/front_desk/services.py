"""Writes of the front desk: logging parcels as they arrive, telling the resident, and
handing them over (or returning them to the sender).

The workflow is PARCEL_WORKFLOW below (apps/core/workflow.py runs it): waiting →
picked_up, or waiting → returned; both final.
"""

import secrets
from datetime import timedelta
from functools import partial

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.core.errors import Invalid
from apps.core.local_time import local_date
from apps.core.workflow import STAFF, Workflow
from apps.front_desk import events
from apps.front_desk.models import PICKUP_CODE_LENGTH, DeskListSent, Parcel, ParcelStatus
from apps.notifications.services import notifications_request_for, notifications_request_over
from apps.properties.models import Unit
from apps.properties.selectors import (
    quiet_hours_end,
    staff_for_property,
    unit_current_residencies,
    units_for_area,
    workflow_access_check,
    workflow_actor,
    workflow_actor_required,
)
from apps.visitors.models import Visitor, VisitorStatus
from apps.visitors.services import visitor_cancel

AREA = "front_desk"
# At most this many parcels in one logging step (one scan session for one resident).
PARCELS_PER_LOG_MAX = 50

S = ParcelStatus
# Staff: security (the desk) of the property, its managers, admins. Residents never step.
PARCEL_WORKFLOW = Workflow(
    model=Parcel,
    noun="parcel",
    statuses=ParcelStatus,
    actor_of=partial(workflow_actor, area=AREA),
    transitions={
        (S.WAITING, S.PICKED_UP): {STAFF},
        (S.WAITING, S.RETURNED): {STAFF},
    },
)


def parcel_actor_authorize(user):
    """Residents (their own parcels) and the desk's staff; other roles are refused."""
    return workflow_actor_required(user, AREA)


def parcel_desk_authorize(user):
    """Logging, handing over and returning parcels: the desk's staff only."""
    return workflow_actor_required(
        user, AREA, STAFF, message="Only the front desk logs and hands over parcels."
    )


def _tracking_numbers_clean(tracking_numbers):
    """The numbers as scanned, stripped, each once, in order."""
    unique = dict.fromkeys(n.strip() for n in tracking_numbers if n.strip())
    if not unique:
        raise Invalid("Scan or type at least one tracking number.", field="tracking_numbers")
    if len(unique) > PARCELS_PER_LOG_MAX:
        raise Invalid(
            f"At most {PARCELS_PER_LOG_MAX} parcels in one step.", field="tracking_numbers"
        )
    return list(unique)


def _resident_for(unit, resident):
    """The recipient: `resident` if they live in `unit` now, else the unit's longest
    resident when none is chosen (the suggestion)."""
    residents = [r.resident for r in unit_current_residencies(unit)]
    if resident is None:
        if not residents:
            raise Invalid(f"Nobody lives in {unit} now; choose another unit.", field="unit")
        return residents[0]
    if resident not in residents:
        raise Invalid(f"{resident} does not live in {unit} now.", field="resident")
    return resident


def pickup_code_new():
    return f"{secrets.randbelow(10**PICKUP_CODE_LENGTH):0{PICKUP_CODE_LENGTH}d}"


def parcels_log_check(*, by, unit, tracking_numbers, resident=None):
    """What logging would refuse, refused before anything is written (the admin's form
    asks it too): returns (the recipient, the tracking numbers, each once, in order)."""
    parcel_desk_authorize(by)
    if not units_for_area(by, AREA).filter(pk=unit.pk).exists():
        raise PermissionDenied("You do not work at the front desk of this property.")
    numbers = _tracking_numbers_clean(tracking_numbers)
    resident = _resident_for(unit, resident)
    waiting = set(
        Parcel.objects.filter(
            property=unit.property_id, status=S.WAITING, tracking_number__in=numbers
        ).values_list("tracking_number", flat=True)
    )
    if waiting:
        raise Invalid(
            f"Already waiting at the desk: {', '.join(sorted(waiting))}.",
            field="tracking_numbers",
        )
    return resident, numbers


def parcels_log(
    *,
    by,
    unit,
    carrier,
    tracking_numbers,
    resident=None,
    size="small",
    storage_location="",
    note="",
):
    """The desk logs parcels that arrived for one resident of `unit` (the unit's resident
    when `resident` is None): one parcel per tracking number, all with one pickup code;
    each publishes `parcel.arrived`, so the resident is told. Returns the parcels."""
    code = pickup_code_new()
    with transaction.atomic():
        resident, numbers = parcels_log_check(
            by=by, unit=unit, tracking_numbers=tracking_numbers, resident=resident
        )
        parcels = []
        for number in numbers:
            parcel = PARCEL_WORKFLOW.start(
                by=by,
                property=unit.property,
                unit=unit,
                resident=resident,
                carrier=carrier,
                tracking_number=number,
                size=size,
                storage_location=storage_location,
                note=note,
                pickup_code=code,
                logged_by=by,
            )
            events.parcel_arrived(parcel)
            parcels.append(parcel)
    return parcels


def _step(parcel, to_status, *, by, note="", apply=None, fields=()):
    actor = STAFF if by is None else parcel_desk_authorize(by)
    with transaction.atomic():
        parcel, change = PARCEL_WORKFLOW.transition(
            parcel,
            to_status,
            user=by,
            actor=actor,
            note=note,
            check_access=None
            if by is None
            else (lambda locked: workflow_access_check(locked, by, actor, AREA)),
            apply=apply,
            fields=fields,
        )
        events.parcel_status_changed(parcel, change)
    return parcel


def parcel_pick_up(*, parcel, by, code="", collected_by="", note=""):
    """Hand a waiting parcel over: to whoever gives its pickup `code`, or to a person the
    resident authorised (`collected_by`, with a `note` saying how). A parcel already
    picked up or returned is a Conflict (409) naming its state; a wrong code is Invalid."""
    code, collected_by, note = code.strip(), collected_by.strip(), note.strip()
    if not code and not collected_by:
        raise Invalid("Enter the resident's pickup code, or who collects it.", field="code")
    if collected_by and not note:
        raise Invalid("Say how the resident authorised this person.", field="note")

    def apply(locked, now):
        # After the workflow's own check: a parcel already handed over is 409, whatever code.
        if code and not secrets.compare_digest(code.encode(), locked.pickup_code.encode()):
            raise Invalid("That is not this parcel's pickup code.", field="code")
        locked.picked_up_at = now
        locked.collected_by = collected_by or str(locked.resident)

    how = f"Collected by {collected_by}: {note}" if collected_by else "Pickup code given."
    return _step(
        parcel,
        S.PICKED_UP,
        by=by,
        note=f"{how} {note if code else ''}".strip(),
        apply=apply,
        fields=["picked_up_at", "collected_by"],
    )


def parcel_return(*, parcel, by, note=""):
    """Send a waiting parcel back to its sender (`by=None`: the office's scheduled jobs)."""

    def apply(locked, now):
        locked.returned_at = now

    return _step(parcel, S.RETURNED, by=by, note=note, apply=apply, fields=["returned_at"])


# --- telling people (consumers and beat jobs) --------------------------------------------


def _parcel_variables(parcel):
    return {
        "parcel_id": parcel.pk,
        "carrier": parcel.get_carrier_display(),
        "tracking_number": parcel.tracking_number,
        "size": parcel.get_size_display(),
        "unit": parcel.unit.code,
        "property": parcel.property.name,
        "pickup_code": parcel.pickup_code,
        "arrived_on": timezone.localtime(parcel.created_at).date().isoformat(),
    }


def _resident_tell(parcel, template, now):
    """In-app always; email and SMS as the resident's preferences say, after the
    property's quiet hours."""
    resident, variables = [parcel.resident], _parcel_variables(parcel)
    sent = notifications_request_for(
        resident,
        channel="in_app",
        template=template,
        category="parcel",
        variables=variables,
        ignore_preferences=True,
    )
    return sent + notifications_request_over(
        resident,
        channels=("email", "sms"),
        template=template,
        category="parcel",
        variables=variables,
        not_before=quiet_hours_end(parcel.property, now),
    )


def parcel_arrival_announce(parcel_id, *, now=None):
    """Tell the resident a parcel waits for them, with its pickup code (the
    parcel.arrived consumer). A parcel handed over before the message came is not told."""
    parcel = Parcel.objects.select_related("unit", "property", "resident").get(pk=parcel_id)
    if parcel.status != S.WAITING:
        return []
    return _resident_tell(parcel, "parcel_arrived_resident", now or timezone.now())


def parcel_reminders_send(*, days=3, now=None):
    """Remind residents of parcels waiting `days` days or more, once per parcel: the
    parcel is claimed (reminded_at set) in the transaction that tells, so a second run,
    even a concurrent one, finds nothing left. Returns how many were reminded."""
    now = now or timezone.now()
    due = Parcel.objects.filter(
        status=S.WAITING, reminded_at__isnull=True, created_at__lte=now - timedelta(days=days)
    )
    reminded = 0
    for parcel_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            claimed = Parcel.objects.filter(
                pk=parcel_id, status=S.WAITING, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue
            parcel = Parcel.objects.select_related("unit", "property", "resident").get(pk=parcel_id)
            _resident_tell(parcel, "parcel_reminder_resident", now)
            reminded += 1
    return reminded


def parcels_return_lists_send(*, days=14, now=None):
    """Send each property's desk (security and managers) the day's list of parcels
    waiting `days` days or more, to return to sender: one list a property a day
    (DeskListSent), however often the job runs. Returns how many lists were sent."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    properties = (
        Parcel.objects.filter(status=S.WAITING, created_at__lte=cutoff)
        .values_list("property", flat=True)
        .distinct()
    )
    sent = 0
    for property_id in properties:
        with transaction.atomic():
            parcels = list(
                Parcel.objects.filter(
                    property=property_id, status=S.WAITING, created_at__lte=cutoff
                ).select_related("unit", "property", "resident")
            )
            prop = parcels[0].property
            day = local_date(prop.time_zone, now)
            _, created = DeskListSent.objects.get_or_create(
                property=prop, day=day, defaults={"parcels": len(parcels)}
            )
            if not created:
                continue
            desk = staff_for_property(prop.pk, [Role.SECURITY, Role.MANAGER])
            rows = [
                {
                    "parcel_id": p.pk,
                    "unit": p.unit.code,
                    "resident": str(p.resident),
                    "tracking_number": p.tracking_number,
                    "storage_location": p.storage_location,
                    "arrived_on": local_date(prop.time_zone, p.created_at).isoformat(),
                }
                for p in parcels
            ]
            notifications_request_for(
                desk,
                channel="in_app",
                template="parcel_return_list_staff",
                category="parcel",
                variables={
                    "property": prop.name,
                    "days": days,
                    "parcels": rows,
                    "count": len(rows),
                },
            )
            sent += 1
    return sent


# --- a resident moved out (the residency.ended consumer) ----------------------------------


def residency_end_follow(*, resident_id, unit_id, end_date):
    """What follows a move-out at the desk: the former resident's expected visitors for
    the unit are cancelled (the visitors' own cancel service: the one call from here),
    their parcels still waiting are flagged, and the property's security staff and
    managers are told both. Runs in the consumer's transaction, once per event."""
    unit = Unit.objects.select_related("property").get(pk=unit_id)
    resident = User.objects.get(pk=resident_id)
    expected = Visitor.objects.filter(host=resident, unit=unit, status=VisitorStatus.EXPECTED)
    cancelled = [visitor_cancel(visitor, by=None) for visitor in expected.order_by("pk")]
    waiting = Parcel.objects.filter(resident=resident, unit=unit, status=S.WAITING)
    flagged = list(waiting.order_by("pk"))
    waiting.update(recipient_moved_out=True)
    desk = staff_for_property(unit.property_id, [Role.SECURITY, Role.MANAGER])
    variables = {
        "resident": str(resident),
        "unit": unit.code,
        "property": unit.property.name,
        "end_date": end_date,
        "visitors": [
            {
                "name": v.name,
                "expected_arrival": timezone.localtime(v.expected_arrival).strftime(
                    "%Y-%m-%d %H:%M"
                ),
            }
            for v in cancelled
        ],
        "parcels": [
            {
                "parcel_id": p.pk,
                "tracking_number": p.tracking_number,
                "storage_location": p.storage_location,
            }
            for p in flagged
        ],
    }
    notifications_request_for(
        desk,
        channel="in_app",
        template="residency_ended_desk",
        category="parcel",
        variables=variables,
    )
    return cancelled, flagged
