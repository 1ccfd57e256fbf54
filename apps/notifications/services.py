"""Writes of the notifications app.

Other apps (and their consumers) ask for notifications with `notifications_request_for`
(many users), `notifications_request_over` (many users over several channels, their
preferences read once) or `notification_request` (one user or address); the notifications
consumers deliver them in batches with `notifications_deliver`.
"""

import logging
from datetime import timedelta
from itertools import islice

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.errors import Conflict, Invalid
from apps.core.pruning import delete_in_chunks
from apps.notifications.channels import channel_backend
from apps.notifications.events import notification_batch_requested
from apps.notifications.models import (
    Category,
    Channel,
    Notification,
    NotificationPreference,
    NotificationStatusChange,
    Status,
)
from apps.notifications.rendering import template_render
from apps.notifications.selectors import (
    MANDATORY_CATEGORIES,
    users_opted_in,
    users_opted_in_by_channel,
)

logger = logging.getLogger(__name__)


class NotificationRequestError(Invalid, ValueError):
    """A notification that cannot be requested as asked (the API answers 400 on `field`:
    the recipient, or the preference switched)."""

    def __init__(self, message, *, field="recipient"):
        super().__init__(message, field=field)


def _status_set(notification, status, detail=""):
    """Set the status and return its history row (not saved)."""
    notification.status = status
    return NotificationStatusChange(notification=notification, status=status, detail=detail[:5000])


def _address_for(channel, user, address):
    if address or channel == Channel.IN_APP:
        return address
    if user is None:
        return ""
    return user.email if channel == Channel.EMAIL else (user.phone or "")


def _chunks(items, size):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def batch_size(channel):
    if channel == Channel.SMS:
        return settings.NOTIFICATION_SMS_BATCH_SIZE
    return settings.NOTIFICATION_BATCH_SIZE


def _request_check(channel, category):
    if channel not in Channel.values:
        raise NotificationRequestError(f"unknown channel {channel!r}")
    if category not in Category.values:
        raise NotificationRequestError(f"unknown category {category!r}")


def _render(template, variables, channel):
    try:
        return template_render(template, variables, html=channel == Channel.EMAIL)
    except ValueError as exc:
        raise NotificationRequestError(str(exc)) from exc


def _in_app_deliver_now(notifications):
    """In-app notifications due now are delivered by their creation: the inbox is a table
    of ours, so storing the notification sent is its delivery (no provider, no message,
    no worker). Returns their history rows after `requested`."""
    now = timezone.now()
    history = []
    for notification in notifications:
        notification.status = Status.SENT
        notification.sent_at = now
        notification.attempts = 1
        history.append(
            NotificationStatusChange(
                notification=notification, status=Status.SENT, detail="in_app to inbox"
            )
        )
    return history


def _notifications_create(notifications, *, urgency=None, not_before=None):
    """Store notifications of one channel with their history, in the caller's
    transaction (or one): in-app ones due now stored delivered (`_in_app_deliver_now`);
    the others pending, with one delivery message per batch of them."""
    if not notifications:
        return []
    channel = notifications[0].channel
    delivered = []
    if channel == Channel.IN_APP and not_before is None:
        delivered = _in_app_deliver_now(notifications)
    # savepoint=False: inside a consumer's transaction a savepoint is two statements more
    # per call, and any error here aborts the caller's work anyway.
    with transaction.atomic(savepoint=False):
        Notification.objects.bulk_create(notifications)
        NotificationStatusChange.objects.bulk_create(
            [
                *(
                    NotificationStatusChange(
                        notification=n, status=Status.PENDING, detail="requested"
                    )
                    for n in notifications
                ),
                *delivered,
            ]
        )
        if delivered:
            return notifications
        for batch in _chunks(notifications, batch_size(channel)):
            notification_batch_requested(
                channel, [str(n.id) for n in batch], urgency=urgency, not_before=not_before
            )
    return notifications


def notifications_request_for(users, *, channel, **options):
    """`notifications_request_over` one channel."""
    return notifications_request_over(users, channels=[channel], **options)


def notifications_request_over(
    users,
    *,
    channels,
    template,
    variables,
    category,
    subject=None,
    requested_by=None,
    explicit=False,
    urgency=None,
    not_before=None,
    ignore_preferences=False,
):
    """Create pending notifications of one message to many `users` over each of
    `channels` in turn, and their delivery messages; return the notifications created,
    channel by channel.

    Users who opted out (see selectors.users_opted_in_by_channel, read once for all the
    channels; `explicit=True` means the sender chose these channels for this one message)
    are skipped unless `ignore_preferences` (emergencies), and so are users without an
    address for the channel. The template is rendered once per channel, so its errors
    (NotificationRequestError) reach the caller. In the caller's transaction: the
    notifications and their pending history in bulk, and one outbox message per
    `batch_size(channel)` of them, with the priority of `urgency` (default: inherited, as
    `publish` does) and held until `not_before` (aware datetime, published by the relay
    when due). A user listed twice gets one notification per channel.
    """
    for channel in channels:
        _request_check(channel, category)
    unique = {user.pk: user for user in users}
    if ignore_preferences:
        wanted = dict.fromkeys(channels, set(unique))
    else:
        wanted = users_opted_in_by_channel(unique.values(), category, channels, explicit=explicit)
    created = []
    for channel in channels:
        recipients = [
            user
            for user_id, user in unique.items()
            if user_id in wanted[channel]
            and (channel == Channel.IN_APP or _address_for(channel, user, ""))
        ]
        skipped = len(unique) - len(recipients)
        if skipped:
            logger.info(
                "%d of %d users opted out of %s over %s or have no address",
                skipped,
                len(unique),
                category,
                channel,
            )
        notifications = _notifications_build(
            recipients,
            channel=channel,
            template=template,
            variables=variables,
            category=category,
            subject=subject,
            requested_by=requested_by,
        )
        created += _notifications_create(notifications, urgency=urgency, not_before=not_before)
    return created


def _notifications_build(
    users, *, channel, template, variables, category, subject, requested_by, address=""
):
    """Unsaved notifications, one per user (None: to `address` only), rendered once."""
    variables = dict(variables or {})
    rendered_subject, body_text, body_html = _render(template, variables, channel)
    return [
        Notification(
            channel=channel,
            user=user,
            address=address,
            category=category,
            template=template,
            subject=subject if subject is not None else rendered_subject,
            body_text=body_text,
            body_html=body_html,
            variables=variables,
            requested_by=requested_by,
        )
        for user in users
    ]


def notification_request(
    *,
    channel,
    template,
    variables,
    category,
    user=None,
    address="",
    subject=None,
    requested_by=None,
    explicit=False,
):
    """Create one pending Notification and its delivery message in one transaction.

    Returns None (and creates nothing) when `user` opted out of `category` over `channel`
    (as in `notifications_request_for`), or has no address for the channel. An explicit
    `address` (email or phone) needs no user. Raises NotificationRequestError for an
    unknown channel/category/template or no recipient.
    """
    _request_check(channel, category)
    if user is None and not address:
        raise NotificationRequestError("a notification needs a user or an address")
    if channel == Channel.IN_APP and user is None:
        raise NotificationRequestError("an in-app notification needs a user")
    if user is not None and not address:
        created = notifications_request_for(
            [user],
            channel=channel,
            template=template,
            variables=variables,
            category=category,
            subject=subject,
            requested_by=requested_by,
            explicit=explicit,
        )
        return created[0] if created else None
    if user is not None and not users_opted_in([user], category, channel, explicit=explicit):
        logger.info("user %s opted out of %s over %s", user.pk, category, channel)
        return None
    notifications = _notifications_build(
        [user],
        address=address,
        channel=channel,
        template=template,
        variables=variables,
        category=category,
        subject=subject,
        requested_by=requested_by,
    )
    return _notifications_create(notifications)[0]


def notification_render(notification):
    """Fill subject/body from the template if they are empty (not saved)."""
    subject, body_text, body_html = template_render(
        notification.template, notification.variables, html=notification.channel == Channel.EMAIL
    )
    notification.subject = notification.subject or subject
    notification.body_text = body_text
    notification.body_html = notification.body_html or body_html


# Written row by row only for the few notifications that need more than the attempt's
# one UPDATE: those turned `unknown` or resent, and those requested before bodies were
# rendered.
_REWRITTEN_FIELDS = [
    "status",
    "attempt_started_at",
    "last_error",
    "subject",
    "body_text",
    "body_html",
    "resends",
    "resend_requested_at",
]


def notifications_deliver(notification_ids, *, resend=False):
    """Send a batch of notifications through their channels: once per notification, and
    once at the provider as far as the provider allows; return {id: error} of those whose
    attempt failed (recorded by the consumer: `notifications_attempt_failed` /
    `notifications_mark_failed`).

    For each group of notifications:
    1. Under row locks, and committed before the provider is called: the attempts
       (`attempts`, status processing, `attempt_started_at`), in bulk. Notifications
       already sent (or of unknown outcome) are left alone; `resend` (an operator's or
       an emergency's resend message) sends those of unknown outcome whose resend was
       requested, marked as possible duplicates.
    2. The provider is called for each, with its idempotency key, over one connection
       for the whole batch (one SMTP connection), holding no lock and no transaction.
    3. The outcomes are committed, in bulk: the sent as sent; the failed with their
       error and their attempt closed. An attempt stays open (`attempt_started_at` set)
       only while its outcome is not known.

    A redelivery that finds an attempt without outcome (its worker died between 1 and
    3) sends again with the same key only where the provider honours it; otherwise the
    notification is marked `unknown` for an operator and nothing is sent blind. So the
    group is the whole batch only where the provider honours the key; otherwise each
    notification is its own group, and a worker lost mid-batch leaves at most one
    notification of unknown outcome. Call it outside any transaction (the consumers do),
    or step 1 is not committed before the provider is called.

    At the task's soft time limit the batch stops: what was sent is recorded, the
    notification in flight is left with its attempt open, and the rest is published
    again as a new batch message (nothing is sent twice, nothing waits for a retry).
    """
    ids = sorted(set(map(str, notification_ids)))
    by_channel = {}
    rows = Notification.objects.filter(id__in=ids)
    for notification_id, channel in rows.order_by("id").values_list("id", "channel"):
        by_channel.setdefault(channel, []).append(str(notification_id))
    missing = len(ids) - sum(map(len, by_channel.values()))
    if missing:
        logger.warning("%d notifications of the batch no longer exist", missing)
    failures = {}
    try:
        for channel, channel_ids in by_channel.items():
            backend = channel_backend(channel)
            group = len(channel_ids) if backend.honours_idempotency_key else 1
            with backend.opened():
                for chunk in _chunks(channel_ids, group):
                    failures.update(_deliver_group(backend, chunk, resend=resend))
    except SoftTimeLimitExceeded:
        _rest_requeue(ids, failures, resend=resend)
        return {}
    return failures


def _deliver_group(backend, notification_ids, *, resend=False):
    to_send = _attempts_start(backend, notification_ids, resend=resend)
    sent, failures, closed = [], {}, {}
    try:
        for notification, address in to_send:
            try:
                backend.send(notification, address)
            except SoftTimeLimitExceeded:
                raise  # stops the batch; this attempt stays open (its outcome is unknown)
            except Exception as exc:  # recorded by the consumer, which decides retry or fail
                logger.warning("notification %s: %r", notification.id, exc)
                failures[str(notification.id)] = exc
                # A provider that timed out may have accepted the message all the same:
                # that attempt stays open, its outcome unknown.
                if not backend.outcome_unknown(exc):
                    closed[str(notification.id)] = exc
            else:
                sent.append((notification, address))
    finally:
        if sent or closed:
            _outcomes_record(sent, closed)
    return failures


def _rest_requeue(notification_ids, failures, *, resend=False):
    """The batch stopped at the soft time limit: record the attempts that failed, and
    publish what is neither sent nor of unknown outcome as a new batch message (and, of
    a resend batch, the resends not sent yet as a new resend message)."""
    if failures:
        notifications_attempt_failed({i: f"{type(e).__name__}: {e}" for i, e in failures.items()})
    with transaction.atomic():
        rest = list(
            Notification.objects.filter(
                id__in=notification_ids, status__in=[Status.PENDING, Status.PROCESSING]
            ).values_list("id", "channel")
        )
        by_channel = {}
        for notification_id, channel in rest:
            by_channel.setdefault(channel, []).append(str(notification_id))
        for channel, ids in by_channel.items():
            notification_batch_requested(channel, ids)
        if resend:
            _resends_publish(
                Notification.objects.filter(id__in=notification_ids, status=Status.UNKNOWN)
            )
    logger.warning(
        "batch stopped at the soft time limit; %d of %d notifications re-queued",
        len(rest),
        len(notification_ids),
    )


def _unknown_outcome_reason(notification):
    return (
        f"attempt {notification.attempts} started at "
        f"{notification.attempt_started_at.isoformat()} has no recorded outcome and the "
        "provider does not honour an idempotency key: not sent again; check with the "
        "provider whether it was delivered"
    )


def _outcome_unknown(notification, reason, now):
    """Mark `notification` unknown (not saved); return its history rows. A category
    whose policy is at least once (NOTIFICATION_RESEND_UNKNOWN_CATEGORIES: emergencies)
    gets its resend requested, up to NOTIFICATION_UNKNOWN_MAX_RESENDS copies, published
    by `_resends_publish` for NOTIFICATION_UNKNOWN_RESEND_AFTER seconds later."""
    logger.error("notification %s: %s", notification.id, reason)
    notification.attempt_started_at = None
    notification.last_error = reason[:5000]
    history = [_status_set(notification, Status.UNKNOWN, reason)]
    if (
        notification.category in settings.NOTIFICATION_RESEND_UNKNOWN_CATEGORIES
        and notification.resends < settings.NOTIFICATION_UNKNOWN_MAX_RESENDS
    ):
        after = settings.NOTIFICATION_UNKNOWN_RESEND_AFTER
        notification.resend_requested_at = now
        history.append(
            _status_set(
                notification,
                Status.UNKNOWN,
                f"{notification.category}: resent in {after}s, marked as a possible duplicate",
            )
        )
    return history


def _resends_publish(notifications, *, delay=0, urgency=None):
    """One `resend` batch message per channel for the notifications whose resend was
    requested (in the caller's transaction), held `delay` seconds in the outbox."""
    by_channel = {}
    for notification in notifications:
        if notification.resend_requested_at is not None:
            by_channel.setdefault(notification.channel, []).append(str(notification.id))
    not_before = timezone.now() + timedelta(seconds=delay) if delay else None
    for channel, ids in by_channel.items():
        for chunk in _chunks(ids, batch_size(channel)):
            notification_batch_requested(
                channel, chunk, resend=True, urgency=urgency, not_before=not_before
            )


def _attempts_start(backend, notification_ids, *, resend=False):
    """Record the attempts (committed when called outside a transaction); return
    [(notification, address)] to send."""
    with transaction.atomic():
        notifications = list(
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(id__in=notification_ids)
            .order_by("id")
        )
        now = timezone.now()
        to_send, rewritten, history, unknown = [], [], [], []
        for notification in notifications:
            detail = ""
            if resend:
                if notification.status != Status.UNKNOWN or not notification.resend_requested_at:
                    continue  # resent already (another resend message)
                notification.resend_requested_at = None
                notification.resends += 1
                detail = (
                    f"; resend {notification.resends} after an unknown outcome, marked as a "
                    "possible duplicate"
                )
                rewritten.append(notification)
            elif notification.status in (Status.SENT, Status.UNKNOWN):
                logger.info(
                    "notification %s is %s; not sending again", notification.id, notification.status
                )
                continue
            if notification.attempt_started_at is not None:
                started = notification.attempt_started_at.isoformat()
                if not backend.honours_idempotency_key:
                    reason = _unknown_outcome_reason(notification)
                    history.extend(_outcome_unknown(notification, reason, now))
                    rewritten.append(notification)
                    unknown.append(notification)
                    continue
                detail = f"; resent with the same idempotency key after attempt from {started}"
                logger.warning(
                    "notification %s: attempt without outcome%s", notification.id, detail
                )
            if not notification.is_rendered:
                notification_render(notification)
                rewritten.append(notification)
            notification.attempts += 1
            notification.attempt_started_at = now
            attempt = f"attempt {notification.attempts}{detail}"
            history.append(_status_set(notification, Status.PROCESSING, attempt))
            address = _address_for(notification.channel, notification.user, notification.address)
            to_send.append((notification, address))
        Notification.objects.filter(id__in=[n.id for n, _ in to_send]).update(
            status=Status.PROCESSING, attempts=F("attempts") + 1, attempt_started_at=now
        )
        Notification.objects.bulk_update(set(rewritten), _REWRITTEN_FIELDS)
        NotificationStatusChange.objects.bulk_create(history)
        _resends_publish(unknown, delay=settings.NOTIFICATION_UNKNOWN_RESEND_AFTER)
    return to_send


def _outcomes_record(sent, failures):
    """Commit the outcomes of a group: the sent as sent; `failures` ({id: error}) with
    their error and their attempt closed (the consumer then records the retry or the
    failure). Neither is open any more."""
    now = timezone.now()
    with transaction.atomic():
        Notification.objects.filter(id__in=[n.id for n, _ in sent]).update(
            status=Status.SENT, sent_at=now, attempt_started_at=None, last_error=""
        )
        NotificationStatusChange.objects.bulk_create(
            _status_set(n, Status.SENT, f"{n.channel} to {address or 'inbox'}")
            for n, address in sent
        )
        closed = [
            Notification(id=i, attempt_started_at=None, last_error=f"{type(e).__name__}: {e}")
            for i, e in failures.items()
        ]
        Notification.objects.bulk_update(closed, ["attempt_started_at", "last_error"])


def notification_deliver(notification_id):
    """`notifications_deliver` of one notification, raising its failure; return it."""
    failures = notifications_deliver([notification_id])
    if failures:
        raise failures[str(notification_id)]
    return Notification.objects.get(id=notification_id)


def _settle(reasons, apply):
    """Lock the notifications of `reasons` ({id: reason}) and settle each with
    `apply(notification, reason, now)` -> history rows or None (left alone). An attempt
    still open (its outcome unknown) where the provider honours no key is marked
    unknown first, and never reset: nothing is sent blind."""
    now = timezone.now()
    with transaction.atomic():
        notifications = list(Notification.objects.select_for_update().filter(id__in=list(reasons)))
        changed, history, unknown, keyed = [], [], [], {}
        for notification in notifications:
            reason = str(reasons[str(notification.id)])
            if notification.status in (Status.SENT, Status.UNKNOWN):
                continue
            channel = notification.channel
            if channel not in keyed:
                keyed[channel] = channel_backend(channel).honours_idempotency_key
            if notification.attempt_started_at is not None and not keyed[channel]:
                reason = f"{_unknown_outcome_reason(notification)} ({reason})"
                history.extend(_outcome_unknown(notification, reason, now))
                unknown.append(notification)
            else:
                rows = apply(notification, reason, now)
                if rows is None:
                    continue
                history.extend(rows)
            changed.append(notification)
        Notification.objects.bulk_update(
            changed, ["attempt_started_at", "last_error", "status", "resend_requested_at"]
        )
        NotificationStatusChange.objects.bulk_create(history)
        _resends_publish(unknown, delay=settings.NOTIFICATION_UNKNOWN_RESEND_AFTER)
    return notifications


def notifications_attempt_failed(errors, *, retry_in=None):
    """Record failed attempts that will be retried: `errors` is {id: error}. Those sent,
    failed or of unknown outcome stay so; one whose attempt is still open is resent with
    the same key where the provider honours it, and marked unknown where it does not."""
    when = f"; retry in {retry_in}s" if retry_in is not None else ""

    def retry(notification, error, now):
        if notification.status == Status.FAILED:
            return None
        if notification.attempt_started_at is not None:
            return None  # the retry resends it with the same idempotency key
        notification.last_error = error[:5000]
        if notification.status == Status.PENDING:  # the delivery stopped before it
            return [_status_set(notification, Status.PENDING, f"not attempted: {error}{when}")]
        return [
            _status_set(
                notification,
                Status.PENDING,
                f"attempt {notification.attempts} failed: {error}{when}",
            )
        ]

    _settle(errors, retry)


def notification_attempt_failed(notification_id, error, *, retry_in=None):
    """Record the outcome of a failed attempt that will be retried."""
    notifications_attempt_failed({str(notification_id): error}, retry_in=retry_in)
    return Notification.objects.filter(id=notification_id).first()


def notifications_mark_failed(reasons):
    """Mark notifications failed: `reasons` is {id: reason} (retries exhausted or a
    permanent error). Sent notifications stay sent, and those of unknown outcome stay
    unknown (an operator checks them with the provider); an attempt still open becomes
    unknown where the provider honours no key, and stays open (a replay resends it with
    the same key) where it does."""

    def fail(notification, reason, now):
        notification.last_error = reason[:5000]
        return [_status_set(notification, Status.FAILED, reason)]

    notifications = _settle(reasons, fail)
    missing = set(reasons) - {str(n.id) for n in notifications}
    for notification_id in missing:
        logger.warning("notification %s to mark failed does not exist", notification_id)


def notifications_resend(notification_ids, *, by):
    """An operator's explicit resend of notifications of unknown outcome (having checked
    with the provider, or deciding a second copy is better than none): each is sent once
    more, marked as a possible duplicate. Raises Conflict for any that is not unknown;
    returns the notifications."""
    with transaction.atomic():
        notifications = list(
            Notification.objects.select_for_update().filter(id__in=list(notification_ids))
        )
        wrong = [n for n in notifications if n.status != Status.UNKNOWN]
        if wrong:
            raise Conflict(
                f"only a notification of unknown outcome can be resent; {wrong[0].id} is "
                f"{wrong[0].status}",
                status=wrong[0].status,
                resendable_statuses=[Status.UNKNOWN],
            )
        now = timezone.now()
        who = getattr(by, "email", "") or str(by)
        # One already requested is on its way: a second message would race it.
        requested = [n for n in notifications if n.resend_requested_at is None]
        for notification in requested:
            notification.resend_requested_at = now
        Notification.objects.bulk_update(requested, ["resend_requested_at"])
        NotificationStatusChange.objects.bulk_create(
            _status_set(n, Status.UNKNOWN, f"resend requested by {who}") for n in requested
        )
        _resends_publish(requested)
    logger.info("%s requested the resend of %d notifications", who, len(notifications))
    return notifications


def notification_mark_failed(notification_id, reason):
    """Mark a notification failed with `reason`. A sent notification stays sent."""
    notifications_mark_failed({str(notification_id): reason})
    return Notification.objects.filter(id=notification_id).first()


def notification_mark_read(notification):
    """Mark an in-app notification read (idempotent: the first read time is kept)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def preferences_update(user, items):
    """Store explicit preferences: items of {"category", "channel", "enabled"}.

    Mandatory categories cannot be switched off (NotificationRequestError)."""
    with transaction.atomic():
        for item in items:
            if item["category"] in MANDATORY_CATEGORIES and not item["enabled"]:
                raise NotificationRequestError(
                    f"{item['category']} notifications cannot be switched off", field="enabled"
                )
            NotificationPreference.objects.update_or_create(
                user=user,
                category=item["category"],
                channel=item["channel"],
                defaults={"enabled": item["enabled"]},
            )


def notifications_prune(*, now=None, deadline=None):
    """Delete, in chunks, the status history of notifications in a final state (sent,
    failed) older than NOTIFICATION_HISTORY_RETENTION_DAYS, and such notifications
    themselves (with what is left of their history) older than
    NOTIFICATION_RETENTION_DAYS. Pending, processing and unknown ones stay, history and all."""
    now = now or timezone.now()
    final = [Status.SENT, Status.FAILED]
    history_cutoff = now - timedelta(days=settings.NOTIFICATION_HISTORY_RETENTION_DAYS)
    cutoff = now - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    history = NotificationStatusChange.objects.filter(
        at__lt=history_cutoff, notification__status__in=final
    )
    old = Notification.objects.filter(created_at__lt=cutoff, status__in=final)
    return {
        "notification_history": delete_in_chunks(history, deadline=deadline),
        "notifications": delete_in_chunks(old, deadline=deadline),
    }
