"""Reads of the notifications app: inbox, status access, preferences, and who was sent
what."""

import re

from django.db.models import F, Func, Q, Value

from apps.accounts.models import STAFF_ROLES, User
from apps.core.roles import user_is_admin
from apps.notifications.models import (
    Category,
    Channel,
    Notification,
    NotificationPreference,
)

# Categories that cannot be switched off (the account confirmation email, emergencies).
MANDATORY_CATEGORIES = frozenset({Category.ACCOUNT, Category.EMERGENCY})
# SMS is off by default except for these categories (or when explicitly requested).
SMS_DEFAULT_CATEGORIES = frozenset({Category.REPAIR_URGENT, Category.EMERGENCY})


def preference_default(category, channel, *, explicit=False):
    """The default when a user stored no preference for (category, channel).

    in_app and email: on for every category. sms: on for urgent categories
    (SMS_DEFAULT_CATEGORIES), or when the sender explicitly chose SMS for this one
    message (e.g. staff sending through the send API); off otherwise.
    """
    if channel == Channel.SMS:
        return explicit or category in SMS_DEFAULT_CATEGORIES
    return True


def preference_enabled(user, category, channel, *, explicit=False):
    """Whether `user` wants notifications of `category` over `channel`.

    Mandatory categories always go out; a stored preference always wins (an explicit
    opt-out is respected even for urgent or explicitly requested messages); otherwise
    `preference_default`.
    """
    if category in MANDATORY_CATEGORIES:
        return True
    stored = (
        NotificationPreference.objects.filter(user=user, category=category, channel=channel)
        .values_list("enabled", flat=True)
        .first()
    )
    if stored is not None:
        return stored
    return preference_default(category, channel, explicit=explicit)


def users_opted_in_by_channel(users, category, channels, *, explicit=False):
    """{channel: the ids of `users` who want `category` over it} for each of `channels`
    (`preference_enabled` for each user and channel), in one query for all of them."""
    ids = {user.pk for user in users}
    if category in MANDATORY_CATEGORIES:
        return {channel: set(ids) for channel in channels}
    stored = {
        (user_id, channel): enabled
        for user_id, channel, enabled in NotificationPreference.objects.filter(
            user_id__in=ids, category=category, channel__in=list(channels)
        ).values_list("user_id", "channel", "enabled")
    }
    opted_in = {}
    for channel in channels:
        default = preference_default(category, channel, explicit=explicit)
        opted_in[channel] = {user_id for user_id in ids if stored.get((user_id, channel), default)}
    return opted_in


def users_opted_in(users, category, channel, *, explicit=False):
    """The ids of `users` who want `category` over `channel`, in one query."""
    return users_opted_in_by_channel(users, category, [channel], explicit=explicit)[channel]


def preferences_effective(user):
    """Every (category, channel) with whether it is enabled and whether that is a default."""
    stored = {
        (p.category, p.channel): p.enabled for p in NotificationPreference.objects.filter(user=user)
    }
    rows = []
    for category in Category.values:
        for channel in Channel.values:
            mandatory = category in MANDATORY_CATEGORIES
            is_default = (category, channel) not in stored
            enabled = (
                True
                if mandatory
                else stored.get((category, channel), preference_default(category, channel))
            )
            rows.append(
                {
                    "category": category,
                    "channel": channel,
                    "enabled": enabled,
                    "is_default": is_default,
                    "mandatory": mandatory,
                }
            )
    return rows


def user_may_send(user):
    return bool(
        user and user.is_authenticated and (user_is_admin(user) or user.role in STAFF_ROLES)
    )


def user_with_address(users, channel, address):
    """The user among `users` whose email (any case) or phone (its digits) is `address`,
    for `channel`; None when none is."""
    if channel == Channel.EMAIL:
        return users.filter(email__iexact=address).order_by("id").first()
    digits = re.sub(r"\D", "", address)
    stored = Func(F("phone"), Value(r"\D"), Value(""), Value("g"), function="regexp_replace")
    return (
        users.exclude(phone="").annotate(digits=stored).filter(digits=digits).order_by("id").first()
    )


def inbox_for(user, *, unread=None):
    """The user's own in-app notifications, newest first."""
    queryset = Notification.objects.filter(user=user, channel=Channel.IN_APP)
    if unread is True:
        queryset = queryset.filter(read_at__isnull=True)
    elif unread is False:
        queryset = queryset.filter(read_at__isnull=False)
    return queryset.order_by("-created_at", "-id")


def inbox_unread_count(user):
    return inbox_for(user, unread=True).count()


def notifications_visible_to(user):
    """Notifications whose status `user` may see: admins all; senders what they sent;
    recipients their own."""
    queryset = Notification.objects.all()
    if user_is_admin(user):
        return queryset
    return queryset.filter(Q(requested_by=user) | Q(user=user))


def notification_with_history(queryset, notification_id):
    return queryset.prefetch_related("history").filter(id=notification_id).first()


def users_notified(template, *, variables, since):
    """The users sent a notification of `template` (any channel, any delivery status)
    whose variables include `variables` (say {"move_out": 7}), among those created at or
    after `since`: a time the caller knows precedes them, which bounds the scan by the
    `created_at` index (no index reads the variables)."""
    sent = Notification.objects.filter(
        template=template, variables__contains=variables, created_at__gte=since
    )
    return User.objects.filter(pk__in=sent.values("user_id"))
