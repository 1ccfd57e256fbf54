"""The property office's recurring duties, sent by celery beat (celeryconfig.beat_schedule)
and run on the reporting worker pool. Thin: the work is in apps/reporting/duties.py and
apps/reporting/services.py, each safe to run twice or concurrently."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.messaging.consumers import Consumer
from apps.properties import services as properties_services
from apps.reporting import duties
from apps.reporting.services import report_period_reconcile

consumer = Consumer("reporting")


@consumer.task("scheduled.repair_sla_escalate")
def repair_sla_escalate(self):
    return duties.repair_sla_escalate()


@consumer.task("scheduled.repairs_auto_close")
def repairs_auto_close(self):
    return duties.repairs_auto_close()


@consumer.task("scheduled.visitors_overstay_report")
def visitors_overstay_report(self):
    return duties.visitors_overstay_report()


@consumer.task("scheduled.manager_digests_send")
def manager_digests_send(self):
    return duties.manager_digests_send()


@consumer.task("scheduled.residency_moves_process")
def residency_moves_process(self):
    return properties_services.residency_moves_process()


@consumer.task("scheduled.reports_reconcile")
def reports_reconcile(self):
    today = timezone.localdate()
    return report_period_reconcile(today - timedelta(days=settings.REPORT_RECONCILE_DAYS), today)
