"""The front desk consumer (front_desk): a parcel arrived, a resident moved out; and the
desk's beat jobs (celeryconfig.beat_schedule), each safe to run twice or concurrently."""

from celery import shared_task

from apps.front_desk import services
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="front_desk.notify_parcel_arrived")
def notify_parcel_arrived(self, event):
    services.parcel_arrival_announce(event["data"]["parcel_id"])


@shared_task(bind=True, base=ConsumerTask, name="front_desk.notify_residency_ended")
def notify_residency_ended(self, event):
    data = event["data"]
    services.residency_end_follow(
        resident_id=data["resident_id"], unit_id=data["unit_id"], end_date=data["end_date"]
    )


@shared_task(bind=True, base=ConsumerTask, name="front_desk.parcel_reminders_send")
def parcel_reminders_send(self, days=3):
    return services.parcel_reminders_send(days=days)


@shared_task(bind=True, base=ConsumerTask, name="front_desk.parcel_return_lists_send")
def parcel_return_lists_send(self, days=14):
    return services.parcels_return_lists_send(days=days)
