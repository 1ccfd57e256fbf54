"""Writes of the announcements app: the announcement workflow and its fan-out.

draft → scheduled → sending → sent; draft/scheduled/sending → cancelled
(ANNOUNCEMENT_WORKFLOW, run by apps/core/workflow.py). Managers (for their properties)
and admins take the steps; the system moves a scheduled announcement to sending when its
time comes and a sending one to sent when its last batch is done.

How it travels (docs/MESSAGING.md): scheduling or sending now publishes
`announcement.send` (delayed to the send time through the outbox); its consumer plans
batches of ANNOUNCEMENT_BATCH_SIZE users of one property and publishes one
`announcement.batch` per batch; each batch consumer creates its recipients — each
(announcement, user) once, by a unique constraint — and requests their notifications
in the same transaction as its idempotency-ledger row, so a redelivered, retried or
replayed batch creates no second notification for anyone.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from apps.accounts.models import User
from apps.announcements import events
from apps.announcements.models import (
    NOTIFICATION_FIELDS,
    Announcement,
    AnnouncementBatch,
    AnnouncementCategory,
    AnnouncementDigest,
    AnnouncementRecipient,
    AnnouncementStatus,
)
from apps.announcements.selectors import (
    announcement_recipient_for,
    announcement_recipient_ids,
    managed_property_ids,
    user_manages_announcements,
)
from apps.core.errors import Conflict
from apps.core.workflow import STAFF, Workflow
from apps.notifications.services import notification_mark_read, notifications_request_for
from apps.properties.selectors import quiet_hours_end

logger = logging.getLogger(__name__)

S = AnnouncementStatus
# The workers' own steps: a scheduled announcement's time came; its last batch is done.
SYSTEM = "system"
ANNOUNCEMENT_WORKFLOW = Workflow(
    model=Announcement,
    noun="announcement",
    statuses=AnnouncementStatus,
    actor_of=lambda user: STAFF if user_manages_announcements(user) else None,
    transitions={
        (S.DRAFT, S.SCHEDULED): {STAFF},
        (S.DRAFT, S.SENDING): {STAFF},
        (S.DRAFT, S.CANCELLED): {STAFF},
        (S.SCHEDULED, S.SENDING): {STAFF, SYSTEM},
        (S.SCHEDULED, S.CANCELLED): {STAFF},
        (S.SENDING, S.SENT): {SYSTEM},
        (S.SENDING, S.CANCELLED): {STAFF},
    },
)
HOUR = datetime.timedelta(hours=1)


def announcement_manage_authorize(user):
    if not user_manages_announcements(user):
        raise PermissionDenied("Only managers and admins manage announcements.")
    return STAFF


def _properties_check(user, properties):
    allowed = managed_property_ids(user)
    if allowed is None:
        return
    foreign = [str(p.pk) for p in properties if p.pk not in allowed]
    if foreign:
        raise ValidationError({"properties": [f"You do not manage: {', '.join(foreign)}."]})


def _access_check(announcement, user):
    """Managers act only on announcements all of whose properties they manage."""
    allowed = managed_property_ids(user)
    if allowed is None:
        return
    if set(announcement.properties.values_list("id", flat=True)) - set(allowed):
        raise PermissionDenied("This announcement also goes to properties you do not manage.")


def announcement_create(
    *,
    by,
    properties,
    title,
    body,
    category=AnnouncementCategory.GENERAL,
    audience="residents",
    by_email=False,
    by_sms=False,
    floors=(),
    units=(),
    send_at=None,
):
    """A manager (for their properties) or an admin writes a draft announcement; units,
    when given, must belong to its properties."""
    announcement_manage_authorize(by)
    properties = list(properties)
    if not properties:
        raise ValidationError({"properties": ["Choose at least one property."]})
    _properties_check(by, properties)
    property_ids = {p.pk for p in properties}
    stray = [str(u.pk) for u in units if u.property_id not in property_ids]
    if stray:
        raise ValidationError({"units": [f"Not in the chosen properties: {', '.join(stray)}."]})
    with transaction.atomic():
        announcement = ANNOUNCEMENT_WORKFLOW.start(
            by=by,
            author=by,
            title=title,
            body=body,
            category=category,
            audience=audience,
            by_email=by_email,
            by_sms=by_sms,
            floors=list(floors),
            send_at=send_at,
        )
        announcement.properties.set(properties)
        announcement.units.set(units)
    logger.info("announcement %s drafted by %s", announcement.pk, by.pk)
    return announcement


def _step(announcement, to_status, *, user, apply=None, fields=(), note=""):
    check = None if user is None else (lambda locked: _access_check(locked, user))
    actor = SYSTEM if user is None else STAFF
    announcement, _ = ANNOUNCEMENT_WORKFLOW.transition(
        announcement,
        to_status,
        user=user,
        actor=actor,
        note=note,
        check_access=check,
        apply=apply,
        fields=fields,
    )
    return announcement


def announcement_schedule(announcement, *, by, send_at=None):
    """Send at `send_at` (or the announcement's own send time): the send event waits in
    the outbox until then."""
    announcement_manage_authorize(by)
    send_at = send_at or announcement.send_at
    if send_at is None or send_at <= timezone.now():
        raise ValidationError({"send_at": ["Choose a send time in the future."]})

    def stamp(locked, now):
        locked.send_at = send_at

    with transaction.atomic():
        announcement = _step(
            announcement,
            S.SCHEDULED,
            user=by,
            apply=stamp,
            fields=["send_at"],
            note=f"for {send_at.isoformat()}",
        )
        events.announcement_send(announcement, not_before=send_at)
    logger.info("announcement %s scheduled for %s", announcement.pk, send_at.isoformat())
    return announcement


def _stamp_sending(locked, now):
    locked.sending_started_at = now


def announcement_send_now(announcement, *, by):
    announcement_manage_authorize(by)
    with transaction.atomic():
        announcement = _step(
            announcement,
            S.SENDING,
            user=by,
            apply=_stamp_sending,
            fields=["sending_started_at"],
        )
        events.announcement_send(announcement)
    logger.info("announcement %s sending now", announcement.pk)
    return announcement


def announcement_cancel(announcement, *, by):
    """Before its time nothing is sent; while sending, the batches not yet started do
    nothing (each checks the status when it starts)."""
    announcement_manage_authorize(by)
    announcement = _step(announcement, S.CANCELLED, user=by)
    logger.info("announcement %s cancelled by %s", announcement.pk, by.pk)
    return announcement


def announcement_plan(announcement_id, *, now=None):
    """The send consumer: move a due scheduled announcement to sending and plan its
    batches, once (a second send message, e.g. "send now" on a scheduled one, finds it
    planned). A cancelled one is left alone."""
    now = now or timezone.now()
    announcement = Announcement.objects.select_for_update().get(pk=announcement_id)
    if announcement.status == S.SCHEDULED:
        if announcement.send_at and announcement.send_at > now:
            _send_reschedule(announcement, now)
            return announcement
        announcement = _step(
            announcement,
            S.SENDING,
            user=None,
            apply=_stamp_sending,
            fields=["sending_started_at"],
            note="send time reached",
        )
    if announcement.status != S.SENDING or announcement.planned_at is not None:
        logger.info("announcement %s is %s; nothing to plan", announcement_id, announcement.status)
        return announcement
    size = settings.ANNOUNCEMENT_BATCH_SIZE
    number = 0
    total = 0
    for property_id, user_ids in announcement_recipient_ids(announcement).items():
        for start in range(0, len(user_ids), size):
            chunk = user_ids[start : start + size]
            number += 1
            total += len(chunk)
            batch = AnnouncementBatch.objects.create(
                announcement=announcement,
                number=number,
                property_id=property_id,
                size=len(chunk),
            )
            events.announcement_batch(announcement, batch, chunk)
    announcement.planned_at = now
    announcement.recipients_planned = total
    announcement.save(update_fields=["planned_at", "recipients_planned", "updated_at"])
    logger.info("announcement %s: %d recipients in %d batches", announcement_id, total, number)
    if number == 0:
        _finish(announcement, now)
    return announcement


def _send_reschedule(announcement, now):
    """The send message came before `send_at` by this worker's clock: the relay's clock
    runs ahead of ours by about that much. Never ack it away: publish it again through
    the outbox, held that much (at least a second) past `send_at` by the relay's clock,
    which is `send_at` by ours."""
    early = max(announcement.send_at - now, datetime.timedelta(seconds=1))
    not_before = announcement.send_at + early
    events.announcement_send(announcement, not_before=not_before)
    logger.warning(
        "announcement %s: send message %.1fs before its time by this worker's "
        "clock; re-scheduled for %s",
        announcement.pk,
        early.total_seconds(),
        not_before.isoformat(),
    )


def _recipients_insert(announcement, batch, user_ids, now):
    """Insert the recipients not there yet, of the users who still exist; return (the
    ids of the users inserted now, how many of `user_ids` are gone). A user already a
    recipient — another batch, a redelivery — is nobody's to send again; one deleted
    since planning is skipped. FOR KEY SHARE holds off deleting the users found until
    this commits (it blocks nothing else, logins included)."""
    table = AnnouncementRecipient._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {User._meta.db_table} WHERE id = ANY(%s::bigint[]) "
            "ORDER BY id FOR KEY SHARE",
            [list(user_ids)],
        )
        existing = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"INSERT INTO {table} (announcement_id, user_id, batch_id, created_at) "
            "SELECT %s, unnest(%s::bigint[]), %s, %s "
            "ON CONFLICT (announcement_id, user_id) DO NOTHING RETURNING user_id",
            [announcement.pk, existing, batch.pk, now],
        )
        return sorted(row[0] for row in cursor.fetchall()), len(set(user_ids)) - len(existing)


def _throttled(announcement, user_ids, now):
    """{user id: oldest announcement in the window} of those who already had the hourly
    limit of non-emergency announcements delivered on their own."""
    limit = settings.ANNOUNCEMENT_THROTTLE_PER_HOUR
    rows = (
        AnnouncementRecipient.objects.filter(
            user_id__in=user_ids,
            created_at__gt=now - HOUR,
            created_at__lte=now,
            digest__isnull=True,
        )
        .exclude(announcement=announcement)
        .exclude(announcement__category=AnnouncementCategory.EMERGENCY)
        .values("user_id")
        .annotate(n=Count("id"), oldest=Min("created_at"))
    )
    return {row["user_id"]: row["oldest"] for row in rows if row["n"] >= limit}


def _notifications_request(announcement, users, *, channels, template, variables, prop, now):
    """Request one notification per user and channel; {channel: {user id: notification}}.
    Email and SMS of a non-emergency wait for the property's quiet hours to end."""
    emergency = announcement.is_emergency
    held_until = None if emergency else quiet_hours_end(prop, now)
    created = {}
    for channel in channels:
        notifications = notifications_request_for(
            users,
            channel=channel,
            template=template,
            variables=variables,
            category="emergency" if emergency else "announcement",
            requested_by=announcement.author,
            explicit=True,
            urgency=events.announcement_urgency(announcement),
            not_before=None if channel == "in_app" else held_until,
            ignore_preferences=emergency,
        )
        created[channel] = {n.user_id: n for n in notifications}
    return created


def _variables(announcement):
    return {
        "title": announcement.title,
        "body": announcement.body,
        "category": announcement.get_category_display(),
        "emergency": announcement.is_emergency,
    }


def announcement_batch_send(announcement_id, batch_number, user_ids, *, now=None):
    """The batch consumer (inside its ledger transaction): create the batch's recipients
    and request their notifications; over-throttle users are folded into their digest.
    A batch already done, or of a cancelled announcement, does nothing."""
    now = now or timezone.now()
    batch = (
        AnnouncementBatch.objects.select_for_update(of=("self",))
        .select_related("property", "announcement__author")
        .get(announcement_id=announcement_id, number=batch_number)
    )
    announcement = batch.announcement
    if batch.done_at is not None:
        logger.info("announcement %s batch %s already done", announcement_id, batch_number)
        return batch
    if announcement.status != S.SENDING:
        batch.done_at, batch.skipped = now, True
        batch.save(update_fields=["done_at", "skipped"])
        logger.info(
            "announcement %s is %s: batch %s skipped",
            announcement_id,
            announcement.status,
            batch_number,
        )
        return batch
    new_ids, gone = _recipients_insert(announcement, batch, user_ids, now)
    folded = {} if announcement.is_emergency else _throttled(announcement, new_ids, now)
    for user_id, oldest in folded.items():
        _fold_into_digest(announcement, user_id, oldest + HOUR)
    users = list(User.objects.filter(id__in=[i for i in new_ids if i not in folded]))
    created = _notifications_request(
        announcement,
        users,
        channels=announcement.channels,
        template="announcement",
        variables=_variables(announcement),
        prop=batch.property,
        now=now,
    )
    _link(AnnouncementRecipient.objects.filter(announcement=announcement, user__in=users), created)
    batch.done_at, batch.recipients_gone = now, gone
    batch.save(update_fields=["done_at", "recipients_gone"])
    logger.info(
        "announcement %s batch %s: %d recipients (%d already had it, %d gone, %d into "
        "digests), %s notifications",
        announcement_id,
        batch_number,
        len(new_ids),
        len(user_ids) - len(new_ids) - gone,
        gone,
        len(folded),
        ", ".join(f"{len(v)} {k}" for k, v in created.items()),
    )
    _finish(Announcement.objects.select_for_update().get(pk=announcement_id), now)
    return batch


def _link(recipients, created):
    recipients = list(recipients)
    for recipient in recipients:
        for channel, by_user in created.items():
            notification = by_user.get(recipient.user_id)
            if notification is not None:
                setattr(recipient, f"{NOTIFICATION_FIELDS[channel]}_id", notification.id)
    fields = [NOTIFICATION_FIELDS[channel] for channel in created]
    if recipients and fields:
        AnnouncementRecipient.objects.bulk_update(recipients, fields, batch_size=500)


def _finish(announcement, now):
    """Sent once every batch is done (the caller holds the announcement's row lock, so
    two last batches cannot both miss each other)."""
    if announcement.status != S.SENDING:
        return
    if announcement.batches.filter(done_at__isnull=True).exists():
        return

    def stamp(locked, at):
        locked.sent_at = at

    # No total in the note: the history is shown to the managers of every property.
    _step(announcement, S.SENT, user=None, apply=stamp, fields=["sent_at"], note="every batch done")
    logger.info(
        "announcement %s sent to %d recipients", announcement.pk, announcement.recipients_planned
    )


def _fold_into_digest(announcement, user_id, due_at):
    """Attach the user's copy to their open digest (opened, and its send published for
    when the hour window frees, if they have none). The open digest is locked, so one
    being sent right now is waited for and then not attached to (a new one opens)."""
    open_digests = AnnouncementDigest.objects.select_for_update().filter(
        user_id=user_id, sent_at__isnull=True
    )
    digest = open_digests.first()
    if digest is None:
        try:
            with transaction.atomic():
                digest = AnnouncementDigest.objects.create(user_id=user_id, due_at=due_at)
        except IntegrityError:  # another batch opened it first
            digest = open_digests.get()
        else:
            events.announcement_digest_due(digest)
    AnnouncementRecipient.objects.filter(announcement=announcement, user_id=user_id).update(
        digest=digest
    )


def announcement_digest_send(digest_id, *, now=None):
    """The digest consumer: one notification per channel listing the folded
    announcements, linked to each of them; once (the digest is marked sent)."""
    now = now or timezone.now()
    digest = AnnouncementDigest.objects.select_for_update().select_related("user").get(pk=digest_id)
    if digest.sent_at is not None:
        return digest
    # A cancelled announcement is not sent, in a digest either.
    recipients = list(
        digest.recipients.exclude(announcement__status=S.CANCELLED)
        .select_related("announcement__author", "batch__property")
        .order_by("announcement__sending_started_at", "id")
    )
    digest.sent_at = now
    digest.save(update_fields=["sent_at"])
    if not recipients:
        return digest
    announcements = [r.announcement for r in recipients]
    channels = [c for c in NOTIFICATION_FIELDS if any(c in a.channels for a in announcements)]
    variables = {"titles": [a.title for a in announcements], "count": len(announcements)}
    created = _notifications_request(
        announcements[0],
        [digest.user],
        channels=channels,
        template="announcement_digest",
        variables=variables,
        prop=recipients[0].batch.property,
        now=now,
    )
    for recipient in recipients:
        chosen = {c: v for c, v in created.items() if c in recipient.announcement.channels}
        _link([recipient], chosen)
    logger.info(
        "digest %s of %d announcements sent to user %s", digest_id, len(recipients), digest.user_id
    )
    return digest


def announcement_mark_read(announcement, *, user):
    """A recipient read it: its in-app notification is marked read (idempotent)."""
    recipient = announcement_recipient_for(announcement, user)
    if recipient is None:
        raise Conflict("This announcement was not sent to you.")
    if recipient.in_app_notification is not None:
        notification_mark_read(recipient.in_app_notification)
    return announcement
