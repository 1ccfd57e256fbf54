"""When the system is quiet: every accepted request has exactly its expected effects.

Expected effects come from the source rows and the staffing (who is told of what, see
the `*_announce` services); what happened is read from our tables, from the provider's
side (the SMS file of the console SMS backend, the file email backend's folder) and from
the broker (dead-letter queues). Needs Django set up.
"""

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from django.db.models import F, Q
from django.utils import timezone

import celeryconfig
from apps.accounts.models import Role
from apps.amenities.models import Reservation, ReservationStatus
from apps.amenities.services import REMINDER_BEFORE
from apps.complaints.models import Complaint
from apps.front_desk.models import Parcel, ParcelStatus
from apps.messaging.broker import broker_connection
from apps.messaging.models import MessageFailure, OutboxMessage, ProcessedMessage
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.selectors import preference_default
from apps.properties.models import StaffAssignment
from apps.repairs.models import RepairRequest
from apps.reporting.facts import facts_from_rows
from apps.reporting.models import DailyPropertyStat
from apps.reporting.services import facts_fold, property_zones
from apps.visitors.models import Visitor
from bench.faults.load import PARCEL_SHELF
from bench.faults.world import STUDIO_NAME

# template -> the variable that names the object a notification is about
OBJECT_VARIABLE = {
    "repair_requested_staff": "repair_id",
    "repair_urgent_manager": "repair_id",
    "complaint_filed_staff": "complaint_id",
    "visitor_arrived_security": "visitor_name",
    "visitor_arrived_host": "visitor_name",
    "parcel_arrived_resident": "parcel_id",
    "reservation_status_resident": "reservation_id",
    "reservation_requested_staff": "reservation_id",
    "reservation_reminder": "reservation_id",
}
PROVIDER_CHANNELS = ("sms", "email")
# Figures that must be zero.
FAILING = (
    "lost requests",
    "lost notifications (ours)",
    "undelivered notifications (ours)",
    "lost at provider",
    "lost report increments",
    "duplicated notifications (ours)",
    "duplicated report increments (ours)",
    "duplicated at provider (sms)",
    "duplicated at provider (email)",
    "unexpected notifications",
    "unpublished outbox rows",
    "published, not processed",
    "dead letters (in .dlq)",
    "message failures recorded",
    "left in work queues",
    "lost reminders",
    "reminders after cancellation",
)
NOTIFICATION_ID_HEADER = re.compile(rb"^X-Notification-Id: (\S+)", re.MULTILINE)


def _due_by(moment):
    """Outbox rows to publish by `moment` (a row held by `not_before` waits until then)."""
    return Q(not_before__isnull=True) | Q(not_before__lte=moment)


def outbox_pending(due_by=None):
    """Outbox rows due by `due_by` (default now) not yet published, and published rows
    no consumer has finished (neither in the idempotency ledger nor recorded as failed)."""
    due = _due_by(due_by or timezone.now())
    unpublished = OutboxMessage.objects.filter(due, published_at__isnull=True).count()
    done = set(ProcessedMessage.objects.values_list("message_id", "consumer"))
    done |= set(MessageFailure.objects.values_list("message_id", "consumer"))
    rows = OutboxMessage.objects.filter(published_at__isnull=False).values_list("id", "task_name")
    unfinished = sum(1 for row_id, task in rows if (str(row_id), task) not in done)
    return unpublished, unfinished


def held_notifications(now):
    """Ids of notifications whose delivery is held in the outbox past `now` (a parcel's
    email logged in the property's quiet hours waits until they end)."""
    held = OutboxMessage.objects.filter(published_at__isnull=True).exclude(_due_by(now))
    return {
        notification_id
        for (envelope,) in held.values_list("payload", flat=True)  # the task's one argument
        for notification_id in envelope["data"].get("notification_ids", [])
    }


def queue_depths():
    depths = {}
    with broker_connection() as connection:
        channel = connection.channel()
        for queue in celeryconfig.WORK_QUEUES + celeryconfig.DEAD_LETTER_QUEUES:
            _, messages, consumers = channel.queue_declare(queue=queue.name, passive=True)
            depths[queue.name] = (messages, consumers)
        channel.close()
    return depths


def _day(moment):
    return timezone.localtime(moment).date()


def _staff():
    """property id -> role -> [(user id, on duty, email, phone)] (active users)."""
    staff = {}
    rows = StaffAssignment.objects.filter(staff__is_active=True).values_list(
        "property_id", "role", "staff_id", "on_duty", "staff__email", "staff__phone"
    )
    for property_id, role, user_id, on_duty, email, phone in rows:
        staff.setdefault(property_id, {}).setdefault(role, []).append(
            (user_id, on_duty, email, phone)
        )
    return staff


def expected_notifications():
    """(template, channel, user id, object) for every notification the source rows call
    for, following the *_announce services."""
    staff = _staff()
    expected = []
    for repair_id, property_id, urgency in RepairRequest.objects.values_list(
        "id", "property_id", "urgency"
    ):
        people = staff.get(property_id, {})
        for user_id, _, email, _ in people.get(Role.MAINTENANCE, []):
            expected.append(("repair_requested_staff", "in_app", user_id, repair_id))
            if email:
                expected.append(("repair_requested_staff", "email", user_id, repair_id))
        if urgency == "urgent":
            for user_id, _, _, phone in people.get(Role.MANAGER, []):
                if phone:
                    expected.append(("repair_urgent_manager", "sms", user_id, repair_id))
    for complaint_id, property_id in Complaint.objects.values_list("id", "property_id"):
        for user_id, *_ in staff.get(property_id, {}).get(Role.CUSTOMER_SERVICE, []):
            expected.append(("complaint_filed_staff", "in_app", user_id, complaint_id))
    arrived = Visitor.objects.filter(arrived_at__isnull=False)
    for property_id, name, host_id in arrived.values_list("property_id", "name", "host_id"):
        for user_id, on_duty, *_ in staff.get(property_id, {}).get(Role.SECURITY, []):
            if on_duty:
                expected.append(("visitor_arrived_security", "in_app", user_id, name))
        if host_id:
            expected.append(("visitor_arrived_host", "in_app", host_id, name))
    expected += _expected_parcel_notices(staff)
    expected += _expected_reservation_notices(staff)
    return Counter(expected)


def _resident_channels(category):
    """The resident's channels for `category` besides in-app, by the defaults (the load
    stores no preferences, verify() checks that)."""
    return [c for c in PROVIDER_CHANNELS if preference_default(category, c)]


def _expected_parcel_notices(staff):
    """One "parcel arrived" per parcel: in-app, and email/SMS by the defaults."""
    expected = []
    rows = Parcel.objects.values_list("id", "resident_id", "resident__email", "resident__phone")
    for parcel_id, resident_id, email, phone in rows:
        expected.append(("parcel_arrived_resident", "in_app", resident_id, parcel_id))
        for channel in _resident_channels("parcel"):
            if email if channel == "email" else phone:
                expected.append(("parcel_arrived_resident", channel, resident_id, parcel_id))
    return expected


def _booked():
    """Reservations made by booking (the demo's past visits were written as history)."""
    return Reservation.objects.filter(starts_at__gt=F("created_at"))


def _expected_reservation_notices(staff):
    """A booking waiting for approval told to the property's managers, one confirmed at
    once to its resident (in-app and email each); the reminder to the resident in-app,
    where the reservation says it was reminded (reminders_check() checks the rest)."""
    expected = []
    rows = _booked().values_list(
        "id",
        "property_id",
        "resident_id",
        "resident__email",
        "amenity__needs_approval",
        "reminded_at",
    )
    for reservation_id, property_id, resident_id, email, needs_approval, reminded_at in rows:
        if needs_approval:
            for user_id, _, manager_email, _ in staff.get(property_id, {}).get(Role.MANAGER, []):
                expected.append(("reservation_requested_staff", "in_app", user_id, reservation_id))
                if manager_email:
                    expected.append(
                        ("reservation_requested_staff", "email", user_id, reservation_id)
                    )
        else:
            expected.append(("reservation_status_resident", "in_app", resident_id, reservation_id))
            if email:
                expected.append(
                    ("reservation_status_resident", "email", resident_id, reservation_id)
                )
        if reminded_at:
            expected.append(("reservation_reminder", "in_app", resident_id, reservation_id))
    return expected


def reminders_check(now):
    """Reminders due by `now` for confirmed bookings not yet started that were not sent,
    and reminders sent after the booking was cancelled; and how many are held for later."""
    confirmed = _booked().filter(status=ReservationStatus.CONFIRMED)
    due = confirmed.filter(starts_at__lte=now + REMINDER_BEFORE, starts_at__gt=now)
    lost = list(due.filter(reminded_at__isnull=True).values_list("id", flat=True))
    late = [
        reservation.id
        for reservation in _booked()
        .filter(status=ReservationStatus.CANCELLED, reminded_at__isnull=False)
        .prefetch_related("history")
        if any(
            c.to_status == ReservationStatus.CANCELLED and c.changed_at < reservation.reminded_at
            for c in reservation.history.all()
        )
    ]
    figures = {
        "reminders due": due.count() + confirmed.filter(starts_at__lte=now).count(),
        "reminders sent": _booked().filter(reminded_at__isnull=False).count(),
        "reminders held (due later)": confirmed.filter(starts_at__gt=now + REMINDER_BEFORE).count(),
    }
    return lost, late, figures


def expected_report():
    """The daily report counters recomputed from the source rows, by the reporting app's
    own definitions (apps/reporting/facts.py): the consumer built its rows from events, so
    a lost or doubled event shows as a difference."""
    every = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
    facts = list(facts_from_rows(*every))
    counters, _ = facts_fold(facts, property_zones({fact.property_id for fact in facts}))
    return Counter({key: count for key, (count, _total) in counters.items() if count})


def actual_report():
    return Counter(
        {
            (r.property_id, r.day, r.metric, r.category, r.urgency): r.count
            for r in DailyPropertyStat.objects.all()
            if r.count
        }
    )


def provider_counts(sms_file, mail_dir):
    """How often the providers got each notification: SMS file lines, email messages."""
    sms = Counter()
    path = Path(sms_file)
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            fields = line.split("\t")
            if len(fields) > 1:
                sms[fields[1]] += 1
    email = Counter()
    for message_file in sorted(Path(mail_dir).glob("*")):
        for match in NOTIFICATION_ID_HEADER.finditer(message_file.read_bytes()):
            email[match.group(1).decode()] += 1
    return {"sms": sms, "email": email}


def _requests_lost(outcomes):
    """Accepted (2xx) requests whose object is not there (or not arrived)."""
    models = {
        "repair": RepairRequest,
        "urgent_repair": RepairRequest,
        "complaint": Complaint,
        "pre_register": Visitor,
        "walk_in": Visitor,
        "parcel": Parcel,
        "book": Reservation,
    }
    # A step answered 200 is in the row.
    steps = {
        "pick_up": Parcel.objects.filter(status=ParcelStatus.PICKED_UP),
        "cancel": Reservation.objects.filter(status=ReservationStatus.CANCELLED),
    }
    lost = []
    for outcome in outcomes:
        if outcome.status is None or not 200 <= outcome.status < 300:
            continue
        model = models.get(outcome.operation)
        ids = outcome.object_id if isinstance(outcome.object_id, list) else [outcome.object_id]
        if model is not None and model.objects.filter(id__in=ids).count() != len(ids):
            lost.append(outcome)
        step = steps.get(outcome.operation)
        if step is not None and not step.filter(id=outcome.object_id).exists():
            lost.append(outcome)
    arrived = set(Visitor.objects.filter(arrived_at__isnull=False).values_list("id", flat=True))
    lost += [
        o
        for o in outcomes
        if o.operation == "check_in" and o.status == 200 and o.object_id not in arrived
    ]
    return lost


def verify(outcomes, *, sms_file, mail_dir, probes=None):
    """Compare; return a dict of figures and the list of problems found. `probes`: the
    messages the suite dead-lettered on purpose after database restarts (message id ->
    dead-letter queue, chaos.py), counted apart from the system's own."""
    probes = probes or {}
    probe_dead_letters = Counter(probes.values())
    problems = []
    now = timezone.now()
    expected = expected_notifications()
    found = Counter()
    by_key = {}
    notifications = Notification.objects.values_list(
        "id", "template", "channel", "user_id", "status", "variables"
    )
    unexpected = []
    for notification_id, template, channel, user_id, status, variables in notifications:
        variable = OBJECT_VARIABLE.get(template)
        key = (template, channel, user_id, (variables or {}).get(variable) if variable else None)
        found[key] += 1
        by_key.setdefault(key, []).append((str(notification_id), status))
        if key not in expected:
            unexpected.append(key)
    lost_ours = [key for key in expected if found[key] == 0]
    duplicated_ours = {key: found[key] - 1 for key in expected if found[key] > 1}
    held_ids = held_notifications(now)
    undelivered = [
        (key, notification_id, status)
        for key in expected
        for notification_id, status in by_key.get(key, [])
        if status != "sent" and not (status == "pending" and notification_id in held_ids)
    ]

    provider = provider_counts(sms_file, mail_dir)
    provider_lost, provider_duplicated = [], {}
    provider_sent = Counter()
    for key in expected:
        channel = key[1]
        if channel not in PROVIDER_CHANNELS:
            continue
        for notification_id, status in by_key.get(key, []):
            times = provider[channel][notification_id]
            provider_sent[channel] += times
            if status == "sent" and times == 0:
                provider_lost.append((key, notification_id))
            if times > 1:
                provider_duplicated[(channel, notification_id)] = times - 1

    report_expected, report_actual = expected_report(), actual_report()
    report_lost = {
        k: report_expected[k] - report_actual[k]
        for k in report_expected
        if report_actual[k] < report_expected[k]
    }
    report_duplicated = {
        k: report_actual[k] - report_expected[k]
        for k in report_actual
        if report_actual[k] > report_expected[k]
    }

    requests_lost = _requests_lost(outcomes)
    reminders_lost, reminders_late, reminder_figures = reminders_check(now)
    unpublished, unfinished = outbox_pending(now)
    held = OutboxMessage.objects.filter(published_at__isnull=True).exclude(_due_by(now)).count()
    depths = queue_depths()
    dead_letters = {
        name: m - probe_dead_letters[name]
        for name, (m, _) in depths.items()
        if name.endswith(".dlq") and m != probe_dead_letters[name]
    }
    waiting = {name: m for name, (m, _) in depths.items() if not name.endswith(".dlq") and m}
    system_failures = MessageFailure.objects.exclude(message_id__in=list(probes))
    failures = list(system_failures.values_list("consumer", "reason")[:20])
    probes_recorded = MessageFailure.objects.filter(message_id__in=list(probes)).count()
    preferences = NotificationPreference.objects.count()

    events = Counter(OutboxMessage.objects.values_list("event", flat=True))
    figures = {
        # Each event wrote one outbox message per subscribed consumer.
        "events": sum(
            n // len(celeryconfig.EVENT_SUBSCRIPTIONS.get(event) or [None])
            for event, n in events.items()
        ),
        "messages": OutboxMessage.objects.count(),
        "messages by event": dict(events),
        "effects expected": sum(expected.values()) + sum(report_expected.values()),
        "notifications expected": sum(expected.values()),
        "notifications found": sum(found[k] for k in expected),
        "parcels logged": Parcel.objects.filter(storage_location=PARCEL_SHELF).count(),
        "parcels picked up": Parcel.objects.filter(
            storage_location=PARCEL_SHELF, status=ParcelStatus.PICKED_UP
        ).count(),
        "bookings": _booked().filter(amenity__name=STUDIO_NAME).count(),
        "bookings cancelled": _booked()
        .filter(amenity__name=STUDIO_NAME, status=ReservationStatus.CANCELLED)
        .count(),
        **reminder_figures,
        "lost reminders": len(reminders_lost),
        "reminders after cancellation": len(reminders_late),
        "outbox rows held (not yet due)": held,
        "notifications held (quiet hours)": len(held_ids),
        "report increments expected": sum(report_expected.values()),
        "report increments found": sum(report_actual.values()),
        "provider sms lines": sum(provider["sms"].values()),
        "provider email messages": sum(provider["email"].values()),
        "lost requests": len(requests_lost),
        "lost notifications (ours)": len(lost_ours),
        "undelivered notifications (ours)": len(undelivered),
        "lost at provider": len(provider_lost),
        "lost report increments": sum(report_lost.values()),
        "duplicated notifications (ours)": sum(duplicated_ours.values()),
        "duplicated report increments (ours)": sum(report_duplicated.values()),
        "duplicated at provider (sms)": sum(
            n for (c, _), n in provider_duplicated.items() if c == "sms"
        ),
        "duplicated at provider (email)": sum(
            n for (c, _), n in provider_duplicated.items() if c == "email"
        ),
        "unexpected notifications": len(unexpected),
        "unpublished outbox rows": unpublished,
        "published, not processed": unfinished,
        "dead letters (in .dlq)": sum(dead_letters.values()),
        "message failures recorded": system_failures.count(),
        "database restart probes": f"{probes_recorded} of {len(probes)} recorded, "
        f"{sum(probe_dead_letters.values())} dead-lettered on purpose",
        "left in work queues": sum(waiting.values()),
    }
    samples = {
        "lost requests": [(o.operation, o.object_id) for o in requests_lost[:5]],
        "lost notifications (ours)": lost_ours[:5],
        "undelivered notifications (ours)": undelivered[:5],
        "lost at provider": provider_lost[:5],
        "lost report increments": list(report_lost.items())[:5],
        "duplicated notifications (ours)": [(k, by_key[k]) for k in list(duplicated_ours)[:5]],
        "duplicated report increments (ours)": list(report_duplicated.items())[:5],
        "duplicated at provider": list(provider_duplicated.items())[:10],
        "unexpected notifications": unexpected[:5],
        "lost reminders": reminders_lost[:5],
        "reminders after cancellation": reminders_late[:5],
        "dead letters": dead_letters,
        "message failures": failures[:5],
        "left in work queues": waiting,
    }
    problems += [name for name in FAILING if figures[name]]
    if preferences:
        problems.append(f"{preferences} notification preferences exist (the load sets none)")
    return figures, samples, problems
