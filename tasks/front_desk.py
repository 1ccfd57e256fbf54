"""The front desk consumer (front_desk): a parcel arrived, a resident moved out; and the
desk's beat jobs (celeryconfig.beat_schedule), each safe to run twice or concurrently."""

from apps.front_desk import services
from apps.messaging.consumers import Consumer

consumer = Consumer("front_desk", queues=["front_desk"])


@consumer.task("front_desk.notify_parcel_arrived", subscribes=["parcel.arrived"])
def notify_parcel_arrived(self, event):
    services.parcel_arrival_announce(event.parcel_id)


@consumer.task("front_desk.notify_residency_ended", subscribes=["residency.ended"])
def notify_residency_ended(self, event):
    end_date = event.end_date.isoformat() if event.end_date else None
    services.residency_end_follow(
        resident_id=event.resident_id, unit_id=event.unit_id, end_date=end_date
    )


@consumer.task("front_desk.parcel_reminders_send")
def parcel_reminders_send(self, days=3):
    return services.parcel_reminders_send(days=days)


@consumer.task("front_desk.parcel_return_lists_send")
def parcel_return_lists_send(self, days=14):
    return services.parcels_return_lists_send(days=days)
