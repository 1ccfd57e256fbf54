"""The reporting consumer: fold domain events into the report tables."""

from apps.messaging.consumers import Consumer
from apps.reporting.services import asset_snapshot_record, report_event_record

consumer = Consumer("reporting", queues=["reporting", "asset_management"])


# Exactly the events apps/reporting/facts.py EVENT_FACTS reports (tested).
@consumer.task(
    "reporting.record_event",
    subscribes=[
        "visitor.arrived",
        "repair.requested",
        "repair.status_changed",
        "complaint.filed",
        "complaint.updated",
        "complaint.rated",
        "parcel.arrived",
        "parcel.status_changed",
        "residency.started",
        "residency.ended",
    ],
)
def record_event(self, event):
    report_event_record(event)


# Exactly apps/reporting/facts.py ASSET_EVENTS (tested).
@consumer.task(
    "reporting.record_asset_event",
    queue="asset_management",
    subscribes=["asset.created", "asset.updated", "asset.retired"],
)
def record_asset_event(self, event):
    asset_snapshot_record(event)
