"""Periodic jobs that celery beat sends (schedule in celeryconfig.beat_schedule)."""

from celery import shared_task

from apps.messaging.services import messaging_records_prune
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="housekeeping.prune_messaging_records")
def prune_messaging_records(self):
    return messaging_records_prune()
