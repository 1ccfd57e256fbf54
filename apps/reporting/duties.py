"""The property office's recurring duties, run by celery beat (tasks/scheduled.py).

Each is safe to run twice or concurrently: whoever is told is told once, guarded by a
DutyNotice row per (duty, subject, level) written in the same transaction as the
notification (a second run's insert conflicts, or waits for the first and then does).
"""

import logging
import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.complaints.models import Complaint, ComplaintStatus
from apps.core.errors import Conflict
from apps.notifications.services import notifications_request_for
from apps.properties.models import Property
from apps.properties.selectors import staff_for_property
from apps.repairs.models import RepairRequest, RepairStatus, RepairUrgency
from apps.repairs.services import repair_transition
from apps.reporting.models import DutyNotice
from apps.visitors.models import Visitor, VisitorStatus

logger = logging.getLogger(__name__)

# Urgency -> (level name, how long a new repair may wait to be acknowledged).
REPAIR_ACKNOWLEDGE_SLA = {
    RepairUrgency.URGENT: ("urgent-1h", timedelta(hours=1)),
    RepairUrgency.NORMAL: ("normal-24h", timedelta(hours=24)),
}
VISITOR_OVERSTAY = timedelta(hours=12)
DIGEST_TIME = time(7, 0)
# A digest not sent by then (beat was down) is skipped rather than sent late in the day.
DIGEST_LATEST = time(10, 0)
OPEN_REPAIR_STATUSES = [
    RepairStatus.SUBMITTED,
    RepairStatus.ACKNOWLEDGED,
    RepairStatus.SCHEDULED,
    RepairStatus.IN_PROGRESS,
    RepairStatus.REOPENED,
]


def duty_notice_claim(duty, subject_id, level=""):
    """Claim the right to tell about (duty, subject, level): False if already claimed.
    Call inside the transaction that tells."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DutyNotice._meta.db_table} (duty, subject_id, level, created_at) "
            "VALUES (%s, %s, %s, now()) ON CONFLICT DO NOTHING RETURNING id",
            [duty, str(subject_id), level],
        )
        return cursor.fetchone() is not None


def repair_sla_escalate(now=None):
    """Tell the property's managers about every repair still waiting to be acknowledged
    past its urgency's limit, once per repair and level. Returns how many were escalated."""
    now = now or timezone.now()
    escalated = 0
    for urgency, (level, limit) in REPAIR_ACKNOWLEDGE_SLA.items():
        late = RepairRequest.objects.filter(
            status=RepairStatus.SUBMITTED, urgency=urgency, created_at__lte=now - limit
        ).select_related("property", "unit")
        for repair in late:
            with transaction.atomic():
                if not duty_notice_claim("repair_sla", repair.id, level):
                    continue
                managers = staff_for_property(repair.property_id, [Role.MANAGER])
                notifications_request_for(
                    managers,
                    channel="in_app",
                    template="repair_sla_escalation",
                    category="repair_urgent" if urgency == RepairUrgency.URGENT else "repair",
                    variables={
                        "repair_id": repair.id,
                        "category": repair.get_category_display(),
                        "urgency": repair.get_urgency_display(),
                        "unit": repair.unit.code,
                        "property": repair.property.name,
                        "limit": limit_text(limit),
                    },
                )
                escalated += 1
                logger.info("repair %s not acknowledged within %s: escalated", repair.id, level)
    return escalated


def limit_text(limit):
    hours = int(limit.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def repairs_auto_close(now=None, days=None):
    """Close repairs resolved more than `days` (settings.REPAIR_AUTO_CLOSE_DAYS) ago and
    not reopened, through the repairs workflow. Returns how many it closed."""
    now = now or timezone.now()
    days = settings.REPAIR_AUTO_CLOSE_DAYS if days is None else days
    due = RepairRequest.objects.filter(
        status=RepairStatus.RESOLVED, resolved_at__lte=now - timedelta(days=days)
    )
    closed = 0
    for repair in due:
        try:
            repair_transition(
                repair=repair,
                to_status=RepairStatus.CLOSED,
                user=None,
                note=f"Closed automatically {days} days after it was resolved.",
            )
        except Conflict:
            continue  # closed or reopened meanwhile (e.g. by a concurrent run)
        closed += 1
    return closed


def visitors_overstay_report(now=None):
    """Tell the property's on-duty security about visitors checked in more than 12 hours
    ago and not checked out, once per visitor. Returns how many were reported."""
    now = now or timezone.now()
    overstaying = Visitor.objects.filter(
        status=VisitorStatus.ARRIVED, arrived_at__lte=now - VISITOR_OVERSTAY
    ).select_related("unit")
    reported = 0
    for visitor in overstaying:
        with transaction.atomic():
            if not duty_notice_claim("visitor_overstay", visitor.id):
                continue
            security = staff_for_property(visitor.property_id, [Role.SECURITY], on_duty_only=True)
            notifications_request_for(
                security,
                channel="in_app",
                template="visitor_overstay",
                category="visitor",
                variables={
                    "visitor": visitor.name,
                    "unit": visitor.unit.code,
                    "arrived_at": timezone.localtime(visitor.arrived_at).strftime("%Y-%m-%d %H:%M"),
                },
            )
            reported += 1
    return reported


def _digest_variables(prop, since, now):
    repairs = RepairRequest.objects.filter(property=prop)
    complaints = Complaint.objects.filter(property=prop)
    return {
        "property": prop.name,
        "new_repairs": repairs.filter(created_at__gte=since).count(),
        "open_repairs": repairs.filter(status__in=OPEN_REPAIR_STATUSES).count(),
        "new_complaints": complaints.filter(created_at__gte=since).count(),
        "open_complaints": complaints.filter(
            status__in=[ComplaintStatus.OPEN, ComplaintStatus.IN_REVIEW]
        ).count(),
        "visitors": Visitor.objects.filter(
            property=prop, arrived_at__gte=since, arrived_at__lt=now
        ).count(),
    }


def manager_digests_send(now=None):
    """Send each manager of each property the day's digest once the property's local
    time has passed 07:00: new and open repairs, complaints, visitors of the last day.
    Once per manager, property and local day. Returns how many digests were sent."""
    now = now or timezone.now()
    sent = 0
    for prop in Property.objects.all():
        local = now.astimezone(zoneinfo.ZoneInfo(prop.time_zone))
        if not DIGEST_TIME <= local.time() < DIGEST_LATEST:
            continue
        since = datetime.combine(local.date(), DIGEST_TIME, local.tzinfo) - timedelta(days=1)
        variables = {**_digest_variables(prop, since, now), "day": local.date().isoformat()}
        for manager in staff_for_property(prop.id, [Role.MANAGER]):
            with transaction.atomic():
                if not duty_notice_claim(
                    "manager_digest", f"{prop.id}:{manager.id}", local.date().isoformat()
                ):
                    continue
                notifications_request_for(
                    [manager],
                    channel="email",
                    template="manager_digest",
                    category="general",
                    variables=variables,
                )
                sent += 1
    return sent
