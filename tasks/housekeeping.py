"""Periodic jobs that celery beat sends (schedule in celeryconfig.beat_schedule)."""

from apps.accounts.services import api_tokens_prune
from apps.core.pruning import prune_deadline
from apps.messaging.consumers import Consumer
from apps.messaging.services import messaging_records_prune
from apps.notifications.services import notifications_prune

# Periodic (celeryconfig.beat_schedule), on the reporting worker pool.
consumer = Consumer("reporting")


@consumer.task("housekeeping.prune_messaging_records")
def prune_messaging_records(self):
    """Every retention rule, in chunks, all within one PRUNE_MAX_SECONDS deadline."""
    deadline = prune_deadline()
    return {
        **messaging_records_prune(deadline=deadline),
        **notifications_prune(deadline=deadline),
        "api_tokens": api_tokens_prune(deadline=deadline),
    }
