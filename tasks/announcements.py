"""The announcements consumers (announcements, a priority queue): plan the batches, send
one batch, send a digest. Each runs in one transaction with its ledger row."""

from celery import shared_task

from apps.announcements.services import (
    announcement_batch_send,
    announcement_digest_send,
    announcement_plan,
)
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="announcements.send")
def send(self, event):
    announcement_plan(event.announcement_id)


@shared_task(bind=True, base=ConsumerTask, name="announcements.send_batch")
def send_batch(self, event):
    announcement_batch_send(event.announcement_id, event.batch, event.user_ids)


@shared_task(bind=True, base=ConsumerTask, name="announcements.send_digest")
def send_digest(self, event):
    announcement_digest_send(event.digest_id)
