import json

from django.core.management.base import BaseCommand, CommandError
from kombu.exceptions import OperationalError

from apps.messaging.deadletters import (
    DeadLetterError,
    dead_letter_purge,
    dead_letter_replay,
    dead_letters_list,
)


class Command(BaseCommand):
    help = "List, show, replay or purge dead letters (messages in the <queue>.dlq queues)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "show", "replay", "purge"])
        parser.add_argument("--queue", help="work queue (or its .dlq); default: all queues")
        parser.add_argument("--id", dest="message_id", help="message (task) id")
        parser.add_argument("--all", action="store_true", help="every dead letter in --queue")

    def handle(self, *args, action, queue, message_id, all, **options):
        try:
            if action == "list":
                self._list(dead_letters_list(queue))
            elif action == "show":
                if not message_id:
                    raise CommandError("show needs --id MESSAGE_ID")
                found = dead_letters_list(queue, message_id=message_id)
                if not found:
                    raise CommandError(f"no dead letter {message_id!r}")
                self.stdout.write(json.dumps(found[0], indent=2))
            else:
                target = self._target(queue, message_id, all)
                settle = dead_letter_replay if action == "replay" else dead_letter_purge
                done = settle(queue, target, via="cli")
                verb = "replayed" if action == "replay" else "purged"
                self.stdout.write(self.style.SUCCESS(f"{verb} {len(done)} dead letter(s)"))
                for done_id in done:
                    self.stdout.write(f"  {done_id}")
        except DeadLetterError as exc:
            raise CommandError(str(exc)) from exc
        except (OperationalError, OSError) as exc:
            raise CommandError(f"broker unreachable: {exc}") from exc

    def _target(self, queue, message_id, all_):
        if message_id and all_:
            raise CommandError("give either --id or --all, not both")
        if all_:
            if not queue:
                raise CommandError("--all needs --queue, so that one command empties one queue")
            return "*"
        if not message_id:
            raise CommandError("give --id MESSAGE_ID, or --queue QUEUE --all")
        return message_id

    def _list(self, letters):
        if not letters:
            self.stdout.write("no dead letters")
            return
        for letter in letters:
            self.stdout.write(
                f"{letter['dead_letter_queue']:<24} {letter['message_id']:<36} "
                f"{letter['task'] or '-':<40} {letter['first_death_at'] or '-'}  {letter['reason']}"
            )
