"""Reads of the announcements app: who may see which, who receives one, and how far its
sending has come (counted from the notifications it created)."""

from django.db.models import Count, Q, Sum

from apps.accounts.models import Role
from apps.announcements.models import (
    NOTIFICATION_FIELDS,
    Announcement,
    AnnouncementBatch,
    AnnouncementRecipient,
    AnnouncementStatus,
    Audience,
)
from apps.core.roles import user_is_admin, user_is_manager_or_admin
from apps.notifications.models import Status as NotificationStatus
from apps.properties.models import StaffAssignment
from apps.properties.selectors import residencies_in_force

PUBLISHED = (AnnouncementStatus.SENDING, AnnouncementStatus.SENT)


def user_manages_announcements(user):
    return user_is_manager_or_admin(user)


def managed_property_ids(user):
    """Properties whose announcements `user` manages (None: all, for admins)."""
    if user_is_admin(user):
        return None
    if user.role != Role.MANAGER:
        return []
    return list(
        StaffAssignment.objects.filter(staff=user, role=Role.MANAGER)
        .values_list("property_id", flat=True)
        .distinct()
    )


def announcements_managed_by(user):
    """Admins: all; managers: those touching one of their properties; others: none."""
    queryset = Announcement.objects.all()
    property_ids = managed_property_ids(user)
    if property_ids is None:
        return queryset
    return queryset.filter(
        id__in=Announcement.objects.filter(properties__in=property_ids).values("id")
    )


def announcements_received_by(user):
    """What was sent to `user`, newest first."""
    return Announcement.objects.filter(recipients__user=user, status__in=PUBLISHED).order_by(
        "-sending_started_at", "-id"
    )


def announcements_visible_to(user):
    if not user.is_authenticated:
        return Announcement.objects.none()
    if user_manages_announcements(user):
        return announcements_managed_by(user)
    return announcements_received_by(user)


def announcement_recipient_ids(announcement, *, today=None):
    """{property id: [user id, ...]} of everyone the announcement goes to, each user once
    (under the first of their properties), ids ascending."""
    property_ids = sorted(announcement.properties.values_list("id", flat=True))
    pairs = []
    if announcement.audience in (Audience.RESIDENTS, Audience.BOTH):
        residencies = residencies_in_force(today).filter(
            unit__property_id__in=property_ids, resident__is_active=True
        )
        unit_ids = list(announcement.units.values_list("id", flat=True))
        if unit_ids:
            residencies = residencies.filter(unit_id__in=unit_ids)
        elif announcement.floors:
            residencies = residencies.filter(unit__floor__in=announcement.floors)
        pairs += residencies.values_list("unit__property_id", "resident_id")
    if announcement.audience in (Audience.STAFF, Audience.BOTH):
        pairs += StaffAssignment.objects.filter(
            property_id__in=property_ids, staff__is_active=True
        ).values_list("property_id", "staff_id")
    owner = {}
    for property_id, user_id in sorted(pairs):
        owner.setdefault(user_id, property_id)
    grouped = {property_id: [] for property_id in property_ids}
    for user_id in sorted(owner):
        grouped[owner[user_id]].append(user_id)
    return {property_id: ids for property_id, ids in grouped.items() if ids}


def announcement_recipient_count(announcement):
    return sum(len(ids) for ids in announcement_recipient_ids(announcement).values())


def _part_seen_by(queryset, user, property_field):
    """`queryset` (rows of one announcement) limited to the part `user` may see: a manager
    the rows of the properties they manage (an admin's announcement to Oak Court and Elm
    House shows Oak's manager only Oak's recipients), an admin every row; no user (the
    system): every row."""
    property_ids = None if user is None else managed_property_ids(user)
    if property_ids is None:
        return queryset
    return queryset.filter(**{f"{property_field}__in": property_ids})


def announcement_preview(announcement, user):
    """How many it would reach now, per property `user` manages (admins: every one)."""
    allowed = managed_property_ids(user)
    by_property = {
        str(prop): len(ids)
        for prop, ids in announcement_recipient_ids(announcement).items()
        if allowed is None or prop in allowed
    }
    return {"recipients": sum(by_property.values()), "by_property": by_property}


def announcement_recipients_planned(announcement, seen_by=None, *, property_ids=None):
    """How many its plan reaches, of the part `seen_by` sees (`property_ids`: the
    managed_property_ids(seen_by) the caller already has); the stored total when that
    part is the whole."""
    if seen_by is not None and property_ids is None:
        property_ids = managed_property_ids(seen_by)
    ids = {prop.pk for prop in announcement.properties.all()}
    if property_ids is None or ids <= set(property_ids):
        return announcement.recipients_planned
    batches = AnnouncementBatch.objects.filter(
        announcement=announcement, property_id__in=property_ids
    )
    return batches.aggregate(n=Sum("size"))["n"] or 0


def announcement_counts(announcement, seen_by=None):
    """Recipients, deliveries by outcome (one per recipient and channel), read (in-app),
    those waiting in a digest, batches done of planned, and planned users deleted before
    their batch (skipped); of the part `seen_by` sees."""
    recipients = _part_seen_by(
        AnnouncementRecipient.objects.filter(announcement=announcement),
        seen_by,
        "batch__property",
    )
    deliveries = {"sent": 0, "failed": 0, "pending": 0}
    failed = (NotificationStatus.FAILED, NotificationStatus.UNKNOWN)
    for field in NOTIFICATION_FIELDS.values():
        rows = (
            recipients.filter(**{f"{field}__isnull": False})
            .values(f"{field}__status")
            .annotate(n=Count("id"))
        )
        for row in rows:
            status = row[f"{field}__status"]
            key = (
                "sent"
                if status == NotificationStatus.SENT
                else ("failed" if status in failed else "pending")
            )
            deliveries[key] += row["n"]
    batches = _part_seen_by(
        AnnouncementBatch.objects.filter(announcement=announcement), seen_by, "property"
    ).aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(done_at__isnull=False)),
        gone=Sum("recipients_gone"),
    )
    return {
        "recipients": recipients.count(),
        **deliveries,
        "read": recipients.filter(in_app_notification__read_at__isnull=False).count(),
        "in_digest": recipients.filter(digest__isnull=False, digest__sent_at__isnull=True).count(),
        "batches": batches["total"],
        "batches_done": batches["done"],
        "gone": batches["gone"] or 0,  # users deleted after planning: skipped
    }


def announcement_failures(announcement, seen_by=None):
    """Each failed delivery `seen_by` may see: who, by which channel, and why (the
    notification's error)."""
    recipients = _part_seen_by(
        AnnouncementRecipient.objects.filter(announcement=announcement),
        seen_by,
        "batch__property",
    ).select_related("user", *NOTIFICATION_FIELDS.values())
    failed = (NotificationStatus.FAILED, NotificationStatus.UNKNOWN)
    condition = Q()
    for field in NOTIFICATION_FIELDS.values():
        condition |= Q(**{f"{field}__status__in": failed})
    rows = []
    for recipient in recipients.filter(condition):
        for channel, field in NOTIFICATION_FIELDS.items():
            notification = getattr(recipient, field)
            if notification is not None and notification.status in failed:
                rows.append(
                    {
                        "user": recipient.user_id,
                        "username": recipient.user.username,
                        "channel": channel,
                        "status": notification.status,
                        "reason": notification.last_error,
                        "notification": notification.id,
                    }
                )
    return rows


def announcement_recipient_for(announcement, user):
    return (
        AnnouncementRecipient.objects.filter(announcement=announcement, user=user)
        .select_related("in_app_notification")
        .first()
    )
