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
    announcement_plan(event["data"]["announcement_id"])


@shared_task(bind=True, base=ConsumerTask, name="announcements.send_batch")
def send_batch(self, event):
    data = event["data"]
    announcement_batch_send(data["announcement_id"], data["batch"], data["user_ids"])


@shared_task(bind=True, base=ConsumerTask, name="announcements.send_digest")
def send_digest(self, event):
    announcement_digest_send(event["data"]["digest_id"])
