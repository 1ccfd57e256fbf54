from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import Conflict
from apps.notifications.services import notifications_resend


class Command(BaseCommand):
    help = (
        "Resend notifications of unknown outcome (after checking with the provider): each "
        "is sent once more, marked as a possible duplicate. Any other status is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("notification_ids", nargs="+", metavar="ID")

    def handle(self, *args, notification_ids, **options):
        try:
            resent = notifications_resend(notification_ids, by="manage.py")
        except Conflict as exc:
            raise CommandError(exc.message) from exc
        except ValidationError as exc:  # an id that is not a UUID
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"{len(resent)} notification(s) will be resent"))
        for missing in sorted(set(notification_ids) - {str(n.id) for n in resent}):
            self.stdout.write(self.style.WARNING(f"no such notification: {missing}"))
