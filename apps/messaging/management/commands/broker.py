import json

from django.core.management.base import BaseCommand, CommandError
from kombu.exceptions import OperationalError

from apps.messaging.broker import (
    BrokerManagementError,
    TopologyMismatchError,
    definitions_export,
    definitions_import,
    queue_migrate,
    queue_status,
    topology_declare,
    topology_mismatches,
)
from apps.messaging.generated import generated_files
from apps.messaging.selectors import outbox_stats
from apps.messaging.topology import topology_lines


class Command(BaseCommand):
    help = (
        "Declare the broker topology of celeryconfig.py, show each queue's state, or "
        "migrate queues whose arguments changed (keeping their messages); export or "
        "import the vhost's definitions (backup and restore, docs/OPERATIONS.md); print the "
        "whole topology (`topology`, no broker needed); write the generated parts of files "
        "(`generate --write`, or `--check` that they are current): the Procfile's and "
        "docker-compose.yml's worker lines from the consumer declarations of tasks/ and "
        "docs/MESSAGING.md's event table from the event types."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "action",
            choices=["declare", "status", "migrate", "export", "import", "topology", "generate"],
        )
        parser.add_argument("--json", action="store_true", help="status as JSON")
        parser.add_argument("--file", help="export: write to, import: read from (JSON)")
        parser.add_argument("--write", action="store_true", help="generate: rewrite the files")
        parser.add_argument("--check", action="store_true", help="generate: fail if stale")

    def handle(self, *args, action, **options):
        if action == "topology":
            self.stdout.write("\n".join(topology_lines()))
            return
        if action == "generate":
            self._generate(write=options["write"], check=options["check"])
            return
        try:
            if action == "declare":
                topology_declare()
                self.stdout.write(self.style.SUCCESS("broker topology declared"))
                return
            if action == "migrate":
                self._migrate()
                return
            if action in ("export", "import"):
                self._definitions(action, options["file"])
                return
            rows = queue_status()
        except (OperationalError, OSError) as exc:
            raise CommandError(f"broker unreachable: {exc}; is RabbitMQ running?") from exc
        except (BrokerManagementError, TopologyMismatchError) as exc:
            raise CommandError(str(exc)) from exc
        outbox = outbox_stats()
        if options["json"]:
            self.stdout.write(json.dumps({"queues": rows, "outbox": outbox}, indent=2))
            return
        self.stdout.write(f"{'queue':<24} {'messages':>8} {'consumers':>9}  arguments")
        for row in rows:
            if not row["exists"]:
                self.stdout.write(f"{row['name']:<24} {'MISSING':>8} {'-':>9}  run: broker declare")
                continue
            args = ", ".join(f"{k}={v}" for k, v in sorted(row["arguments"].items()))
            if row["arguments"] != row["wanted_arguments"]:
                args += "  (other arguments wanted: run broker migrate)"
            self.stdout.write(
                f"{row['name']:<24} {row['messages']:>8} {row['consumers']:>9}  {args}"
            )
        self.stdout.write(
            f"outbox: {outbox['unpublished']} unpublished "
            f"(oldest due {outbox['oldest_unpublished_age']:.0f}s ago), "
            f"{outbox['parked']} parked"
            + (" -- see Admin > Messaging > Outbox messages, parked" if outbox["parked"] else "")
        )
        missing = [row["name"] for row in rows if not row["exists"]]
        if missing:
            raise CommandError(f"missing queues: {', '.join(missing)}")

    def _definitions(self, action, path):
        if not path:
            raise CommandError(f"broker {action} needs --file")
        if action == "export":
            with open(path, "w") as file:
                json.dump(definitions_export(), file, indent=2)
            self.stdout.write(self.style.SUCCESS(f"broker definitions written to {path}"))
            return
        with open(path) as file:
            definitions_import(json.load(file))
        self.stdout.write(self.style.SUCCESS(f"broker definitions loaded from {path}"))

    def _migrate(self):
        names = topology_mismatches()
        for name in names:
            carried = queue_migrate(name)
            self.stdout.write(f"{name}: migrated, {carried} messages kept")
        topology_declare()
        self.stdout.write(self.style.SUCCESS(f"broker topology declared; {len(names)} migrated"))

    def _generate(self, *, write, check):
        if write and check:
            raise CommandError("broker generate takes --write or --check, not both")
        stale = []
        for path, (committed, generated) in generated_files().items():
            if committed == generated:
                continue
            stale.append(path.name)
            if write:
                path.write_text(generated)
                self.stdout.write(f"{path.name}: generated part written")
            elif not check:
                self.stdout.write(generated)
        if check and stale:
            raise CommandError(
                f"{', '.join(stale)}: generated part differs from the code (the consumer "
                "declarations of tasks/, the event types); run: "
                "python manage.py broker generate --write"
            )
        if not stale:
            self.stdout.write("Procfile, docker-compose.yml, docs/MESSAGING.md: up to date")
