"""The events the announcements app publishes: the only place it calls publish().

Emergencies travel as urgent (ahead of ordinary traffic on the priority queues);
ordinary announcements as low, so that a broadcast never delays a repair's notices.
"""

from dataclasses import dataclass

from apps.messaging.contracts import Event
from apps.messaging.publisher import publish


@dataclass(frozen=True)
class AnnouncementSend(Event):
    """-> announcements.send: plan the batches (delayed to send_at when scheduled)."""

    NAME = "announcement.send"
    announcement_id: int


@dataclass(frozen=True)
class AnnouncementBatch(Event):
    """-> announcements.send_batch: create these recipients, request their notifications."""

    NAME = "announcement.batch"
    announcement_id: int
    batch: int
    user_ids: list[int]


@dataclass(frozen=True)
class AnnouncementDigestDue(Event):
    """-> announcements.send_digest at the digest's due time."""

    NAME = "announcement.digest_due"
    digest_id: int


def announcement_urgency(announcement):
    return "urgent" if announcement.is_emergency else "low"


def announcement_send(announcement, *, not_before=None):
    """Call inside the transaction that scheduled or started the sending."""
    return publish(
        AnnouncementSend(announcement_id=announcement.pk),
        urgency=announcement_urgency(announcement),
        not_before=not_before,
    )


def announcement_batch(announcement, batch, user_ids):
    """Call inside the transaction that planned `batch`."""
    event = AnnouncementBatch(
        announcement_id=announcement.pk, batch=batch.number, user_ids=user_ids
    )
    return publish(event, urgency=announcement_urgency(announcement))


def announcement_digest_due(digest):
    """Call inside the transaction that opened `digest`."""
    return publish(
        AnnouncementDigestDue(digest_id=digest.pk), urgency="low", not_before=digest.due_at
    )
