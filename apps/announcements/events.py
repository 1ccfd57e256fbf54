"""The events the announcements app publishes: the only place it calls publish().

Emergencies travel as urgent (ahead of ordinary traffic on the priority queues);
ordinary announcements as low, so that a broadcast never delays a repair's notices.
"""

from apps.messaging.publisher import publish

# {"announcement_id"} -> announcements.send: plan the batches (delayed to send_at when
# scheduled).
ANNOUNCEMENT_SEND = "announcement.send"
# {"announcement_id", "batch", "user_ids"} -> announcements.send_batch: create these
# recipients and request their notifications.
ANNOUNCEMENT_BATCH = "announcement.batch"
# {"digest_id"} -> announcements.send_digest at the digest's due time.
ANNOUNCEMENT_DIGEST_DUE = "announcement.digest_due"


def announcement_urgency(announcement):
    return "urgent" if announcement.is_emergency else "low"


def announcement_send(announcement, *, not_before=None):
    """Call inside the transaction that scheduled or started the sending."""
    return publish(
        ANNOUNCEMENT_SEND,
        {"announcement_id": announcement.pk},
        urgency=announcement_urgency(announcement),
        not_before=not_before,
    )


def announcement_batch(announcement, batch, user_ids):
    """Call inside the transaction that planned `batch`."""
    payload = {"announcement_id": announcement.pk, "batch": batch.number, "user_ids": user_ids}
    return publish(ANNOUNCEMENT_BATCH, payload, urgency=announcement_urgency(announcement))


def announcement_digest_due(digest):
    """Call inside the transaction that opened `digest`."""
    return publish(
        ANNOUNCEMENT_DIGEST_DUE, {"digest_id": digest.pk}, urgency="low", not_before=digest.due_at
    )
