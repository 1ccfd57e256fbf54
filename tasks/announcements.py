"""The announcements consumers (announcements, a priority queue): plan the batches, send
one batch, send a digest. Each runs in one transaction with its ledger row."""

from apps.announcements.services import (
    announcement_batch_send,
    announcement_digest_send,
    announcement_plan,
)
from apps.messaging.consumers import Consumer

consumer = Consumer("announcements", queues=["announcements"], priority=True)


@consumer.task("announcements.send", subscribes=["announcement.send"])
def send(self, event):
    announcement_plan(event.announcement_id)


@consumer.task("announcements.send_batch", subscribes=["announcement.batch"])
def send_batch(self, event):
    announcement_batch_send(event.announcement_id, event.batch, event.user_ids)


@consumer.task("announcements.send_digest", subscribes=["announcement.digest_due"])
def send_digest(self, event):
    announcement_digest_send(event.digest_id)
