import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.messaging.services import outbox_republish


class Command(BaseCommand):
    help = (
        "After restoring the database without the broker's queues (docs/OPERATIONS.md "
        "'Backup and restore'): publish again every outbox row published since a time, "
        "so messages lost with the queues are delivered; the ledger skips work done."
    )

    def add_arguments(self, parser):
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument(
            "--since",
            help="ISO 8601 time, e.g. 2026-12-06T03:00:00Z: at least as early as the oldest "
            "message that may have been waiting in a queue when the backup was taken",
        )
        when.add_argument(
            "--all-retained",
            action="store_true",
            help="every published row still kept (OUTBOX_RETENTION_DAYS)",
        )

    def handle(self, *args, since=None, all_retained=False, **options):
        if all_retained:
            moment = timezone.now() - datetime.timedelta(days=settings.OUTBOX_RETENTION_DAYS)
        else:
            moment = parse_datetime(since or "")
            if moment is None or timezone.is_naive(moment):
                raise CommandError(f"--since {since!r}: an ISO 8601 time with its zone")
        count = outbox_republish(since=moment)
        self.stdout.write(
            self.style.SUCCESS(f"{count} outbox rows published since {moment:%Y-%m-%d %H:%M:%S%z}")
            + " will be published again by the relay"
        )
