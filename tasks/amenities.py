"""The amenities consumer (amenities): who is told about a booking and its steps, the
reminder an hour before, and a closure's cancellations. Each runs in one transaction
with its ledger row."""

from celery import shared_task

from apps.amenities.services import (
    amenity_closure_apply,
    reservation_booked_announce,
    reservation_remind,
    reservation_status_announce,
)
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="amenities.notify_reservation_booked")
def notify_reservation_booked(self, event):
    reservation_booked_announce(event["data"]["reservation_id"])


@shared_task(bind=True, base=ConsumerTask, name="amenities.notify_reservation_status_changed")
def notify_reservation_status_changed(self, event):
    data = event["data"]
    reservation_status_announce(data["reservation_id"], data["version"], data["changed_by_id"])


@shared_task(bind=True, base=ConsumerTask, name="amenities.send_reservation_reminder")
def send_reservation_reminder(self, event):
    reservation_remind(event["data"]["reservation_id"])


@shared_task(bind=True, base=ConsumerTask, name="amenities.apply_closure")
def apply_closure(self, event):
    amenity_closure_apply(event["data"]["closure_id"])
