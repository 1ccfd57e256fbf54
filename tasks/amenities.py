"""The amenities consumer (amenities): who is told about a booking and its steps, the
reminder an hour before, and the cancellations of a closure and of a move-out. Each runs
in one transaction with its ledger row."""

from apps.amenities.services import (
    amenity_closure_apply,
    reservation_booked_announce,
    reservation_remind,
    reservation_status_announce,
    reservations_cancel_for_move_out,
)
from apps.messaging.consumers import Consumer

consumer = Consumer("amenities", queues=["amenities"], concurrency=1)


@consumer.task("amenities.notify_reservation_booked", subscribes=["reservation.booked"])
def notify_reservation_booked(self, event):
    reservation_booked_announce(event.reservation_id)


@consumer.task(
    "amenities.notify_reservation_status_changed", subscribes=["reservation.status_changed"]
)
def notify_reservation_status_changed(self, event):
    reservation_status_announce(event.reservation_id, event.version, event.changed_by_id)


@consumer.task("amenities.send_reservation_reminder", subscribes=["reservation.reminder_due"])
def send_reservation_reminder(self, event):
    reservation_remind(event.reservation_id)


@consumer.task("amenities.apply_closure", subscribes=["amenity.closure_announced"])
def apply_closure(self, event):
    amenity_closure_apply(event.closure_id)


@consumer.task("amenities.cancel_move_out_reservations", subscribes=["residency.ended"])
def cancel_move_out_reservations(self, event):
    reservations_cancel_for_move_out(resident_id=event.resident_id, unit_id=event.unit_id)
