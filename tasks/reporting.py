"""The reporting consumer: fold domain events into the report tables."""

from celery import shared_task

from apps.reporting.services import asset_snapshot_record, report_event_record
from tasks.base import ConsumerTask


@shared_task(bind=True, base=ConsumerTask, name="reporting.record_event")
def record_event(self, event):
    report_event_record(event)


@shared_task(bind=True, base=ConsumerTask, name="reporting.record_asset_event")
def record_asset_event(self, event):
    asset_snapshot_record(event)
