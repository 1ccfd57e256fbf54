import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from apps.messaging.publisher import outbox_publish_due

logger = logging.getLogger("apps.messaging.relay")


class Command(BaseCommand):
    help = (
        "Publish outbox rows that are unpublished (broker was down, a process died after "
        "commit) or whose delay has come. Several relays may run at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one sweep, then exit")

    def handle(self, *args, once=False, **options):
        self._running = True
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        interval = settings.OUTBOX_RELAY_INTERVAL
        logger.info("outbox relay started (every %ss)", interval)
        while self._running:
            close_old_connections()
            try:
                published = outbox_publish_due()
            except Exception as exc:
                logger.warning("relay sweep failed, will retry: %r", exc)
                published = 0
                time.sleep(interval)
            if published:
                logger.info("relay published %d messages", published)
            if once:
                break
            if published < settings.OUTBOX_RELAY_BATCH:
                time.sleep(interval)

    def _stop(self, *_):
        self._running = False
