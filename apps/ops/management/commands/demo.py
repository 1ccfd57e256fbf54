"""`manage.py demo --scenario`: drive the running system through its API and broker and
print what happened, when. The checks read the database (as an operator would in the
admin); every action goes through the HTTP API of the running web process."""

import datetime
import os
import signal
import time
import uuid

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import CharField, Sum
from django.db.models.functions import Cast
from django.utils import timezone

import celeryconfig
from apps.complaints.models import Complaint
from apps.messaging.broker import broker_connection
from apps.messaging.models import OutboxMessage, ProcessedMessage
from apps.notifications.models import Notification
from apps.ops.management.commands.seed_demo import DEMO_PASSWORD
from apps.properties.models import Unit
from apps.properties.selectors import unit_current_residencies
from apps.reporting.models import DailyPropertyStat, Metric
from propmgmt.celery import app as celery_app


class StepFailed(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Run the demo scenario against the running system (web, relay, workers; "
        "`make run`): register and confirm, a visitor, urgent and normal repairs, a "
        "complaint, the reports. Exits non-zero if a step does not happen."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scenario", action="store_true", help="run the scenario")
        parser.add_argument("--url", default=settings.SITE_URL, help="the web process")
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds per step")

    def handle(self, *args, scenario=False, url, timeout, **options):
        if not scenario:
            raise CommandError("say --scenario to run the demo scenario")
        self.base, self.timeout, self.started = url.rstrip("/"), timeout, time.monotonic()
        self.run_id = uuid.uuid4().hex[:8]
        self.started_at = timezone.now()
        steps = [
            ("a resident registers, confirms and is approved", self.register_and_confirm),
            ("a visitor arrives and security is told", self.visitor_arrives),
            (
                "a parcel arrives, the resident is told, it is picked up with the code",
                self.parcel_arrives,
            ),
            ("an urgent repair overtakes normal ones", self.urgent_repair),
            ("a complaint reaches customer service", self.complaint),
            ("a worker is killed mid-task and the task still completes once", self.worker_killed),
            ("a poison message is dead-lettered and replayed after a fix", self.poison),
            ("an announcement reaches every resident", self.announcement),
            ("alice books the party room, the manager approves, alice is told", self.party_room),
            ("the reports move", self.reports_move),
        ]
        self.tokens = {}  # one login per user per run: the login endpoint is throttled
        try:
            self.report_before = self._api("GET", "reports/daily/", self._login("manager"))
        except Exception as exc:
            raise CommandError(f"cannot start: {self._reason(exc)}") from exc
        failed = 0
        for title, step in steps:
            step_started = time.monotonic()
            # Any failure is a one-line reason, never a traceback.
            try:
                detail = step()
            except Exception as exc:
                failed += 1
                self._line("FAIL", title, self._reason(exc), step_started)
            else:
                self._line("ok", title, detail, step_started)
        if failed:
            raise CommandError(f"{failed} of {len(steps)} steps did not happen")
        self.stdout.write(self.style.SUCCESS(f"all {len(steps)} steps happened"))

    # -- plumbing --------------------------------------------------------------------
    def _clock(self):
        return f"+{time.monotonic() - self.started:6.2f}s"

    @staticmethod
    def _reason(exc):
        if isinstance(exc, StepFailed):
            return str(exc)
        return f"{type(exc).__name__}: {exc}".splitlines()[0]

    def _line(self, status, title, detail, step_started):
        took = time.monotonic() - step_started
        self.stdout.write(f"[{self._clock()}] {status:5} {title} ({took:.2f}s): {detail}")

    def _api(self, method, path, token=None, expect=(200, 201, 202), **kwargs):
        headers = {"X-Request-ID": f"demo-{self.run_id}-{uuid.uuid4().hex[:6]}"}
        if token:
            headers["Authorization"] = f"Token {token}"
        url = f"{self.base}/api/v1/{path}"
        try:
            response = requests.request(method, url, headers=headers, timeout=10, **kwargs)
        except requests.RequestException as exc:
            raise StepFailed(f"{method} {url}: {type(exc).__name__} (is `make run` up?)") from exc
        if response.status_code not in expect:
            raise StepFailed(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response.json() if response.content else None

    def _login(self, username, password=DEMO_PASSWORD):
        if username not in self.tokens:
            body = {"username": username, "password": password}
            self.tokens[username] = self._api("POST", "auth/token/", json=body)["token"]
        return self.tokens[username]

    def _wait(self, predicate, what):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        raise StepFailed(f"{what} did not happen within {self.timeout:.0f}s")

    def _notified(self, username, template, since):
        return self._wait(
            lambda: Notification.objects.filter(
                user__username=username,
                template=template,
                created_at__gte=since,
                status="sent",
            ).first(),
            f"{template} to {username}",
        )

    # -- steps -----------------------------------------------------------------------
    def register_and_confirm(self):
        email = f"demo-{self.run_id}@example.com"
        password = f"demo-{uuid.uuid4().hex}"
        self._api(
            "POST",
            "auth/register/",
            json={
                "email": email,
                "password": password,
                "name": "Demo Resident",
                "unit_code": "OAK-201",
            },
        )
        # The resident reads the confirmation email (the sent notification holds its link).
        mail = self._wait(
            lambda: Notification.objects.filter(
                user__email=email, template="account_confirmation", status="sent"
            ).first(),
            "the confirmation email",
        )
        token = mail.variables["confirm_url"].split("token=", 1)[1]
        sent_after = (mail.sent_at - mail.created_at).total_seconds()
        self._api("POST", "auth/confirm/", json={"token": requests.utils.unquote(token)})
        self._login(email, password)
        # A unit code only claims the unit: the property's manager approves the claim.
        manager = self._login("manager")
        claims = self._api("GET", "residencies/?status=pending", manager)["results"]
        claim = next(c for c in claims if c["resident_email"] == email)
        self._api("POST", f"residencies/{claim['id']}/approve/", manager)
        return (
            f"email sent {sent_after:.2f}s after it was requested; confirmed and logged in; "
            "the manager approved the claim"
        )

    def visitor_arrives(self):
        resident, security = self._login("alice"), self._login("security")
        arrival = (timezone.now() + datetime.timedelta(minutes=5)).isoformat()
        visitor = self._api(
            "POST",
            "visitors/",
            resident,
            json={"name": "Demo Visitor", "expected_arrival": arrival},
        )
        since = timezone.now()
        self._api("POST", f"visitors/{visitor['id']}/check-in/", security)
        told = self._notified("security", "visitor_arrived_security", since)
        took = (told.sent_at - since).total_seconds()
        return f"security notified {took:.2f}s after check-in"

    def parcel_arrives(self):
        security, resident = self._login("security"), self._login("alice")
        unit = self._api("GET", "auth/me/", resident)["unit"]["id"]
        since = timezone.now()
        [parcel] = self._api(
            "POST",
            "parcels/",
            security,
            json={"unit": unit, "carrier": "ups", "tracking_numbers": [f"1ZDEMO{self.run_id}"]},
        )
        told = self._notified("alice", "parcel_arrived_resident", since)
        # The resident reads the code in the API and gives it at the desk.
        mine = self._api("GET", "parcels/?status=waiting", resident)["results"]
        code = next(p["pickup_code"] for p in mine if p["id"] == parcel["id"])
        self._api("POST", f"parcels/{parcel['id']}/pick-up/", security, json={"code": code})
        took = (told.sent_at - since).total_seconds()
        return f"alice told {took:.2f}s after logging; picked up with her code"

    def urgent_repair(self):
        """Pause the maintenance workers' consumers of the repair queue (Celery's control
        API), queue normal repairs and then an urgent one, resume once all of them wait in
        the queue: the broker hands the urgent one out first, however fast the workers are."""
        resident = self._login("alice")
        task = "maintenance.notify_repair_requested"
        queue = celeryconfig.TASK_QUEUES[task]
        workers = self._wait(lambda: self._consuming(queue), f"a worker consuming {queue}")
        stats = celery_app.control.inspect(destination=workers, timeout=2).stats() or {}
        processes = sum(stat["pool"]["max-concurrency"] for stat in stats.values()) or 1
        since = timezone.now()

        def repair(description, urgency="normal"):
            body = {"category": "plumbing", "description": description, "urgency": urgency}
            return self._api("POST", "repairs/", resident, json=body)["id"]

        def published():
            rows = OutboxMessage.objects.filter(task_name=task, created_at__gte=since)
            return rows.filter(published_at__isnull=False).count() == len(normal) + 1

        celery_app.control.cancel_consumer(queue, destination=workers, reply=True, timeout=2)
        try:
            self._wait(lambda: self._consumers(queue) == 0, f"{queue} paused")
            normal = [repair(f"drip {i}") for i in range(12)]
            urgent = repair("burst pipe", "urgent")
            self._wait(published, f"every repair waiting in {queue}")
        finally:
            celery_app.control.add_consumer(queue, destination=workers, reply=True, timeout=2)
        self._wait(lambda: self._consumers(queue) >= len(workers), f"{queue} resumed")

        def processed_order():
            rows = OutboxMessage.objects.filter(task_name=task, created_at__gte=since)
            ids = {str(r.id): r.payload[0]["data"].get("repair_id") for r in rows}
            done = ProcessedMessage.objects.filter(message_id__in=ids, consumer=task).order_by(
                "processed_at", "id"
            )
            order = [ids[p.message_id] for p in done]
            return order if len(order) == len(normal) + 1 else None

        order = self._wait(processed_order, "every repair handled by maintenance")
        position = order.index(urgent)
        # With N pool processes the first N handed out run side by side.
        if position >= processes:
            raise StepFailed(
                f"the urgent repair was handled {position + 1}. of {len(order)}, though all "
                f"waited in {queue} for {processes} maintenance process(es)"
            )
        overtaken = len(normal) - position
        return (
            f"{len(order)} repairs queued while {queue} was paused; the urgent one was handled "
            f"{position + 1}. of {len(order)}, ahead of {overtaken} normal"
        )

    @staticmethod
    def _consumers(queue):
        """The broker's count of consumers on `queue` (a passive declare)."""
        with broker_connection() as connection:
            _, _, consumers = connection.default_channel.queue_declare(queue=queue, passive=True)
        return consumers

    @staticmethod
    def _consuming(queue):
        """The workers consuming from `queue`, as they answer Celery's control API."""
        replies = celery_app.control.inspect(timeout=1).active_queues() or {}
        return sorted(
            worker for worker, queues in replies.items() if any(q["name"] == queue for q in queues)
        )

    def announcement(self):
        """The manager announces to the whole of their property in-app (email would wait for
        the end of the property's quiet hours); every resident gets it once, on its own or,
        past ANNOUNCEMENT_THROTTLE_PER_HOUR (the sixth run within an hour), in their hourly
        digest; alice reads it in her list."""
        manager = self._login("manager")
        [oak] = self._api("GET", "properties/", manager)["results"]
        body = {
            "properties": [oak["id"]],
            "title": f"Demo {self.run_id}: fire-alarm test",
            "body": "Friday 10:00, for five minutes.",
            "channels": [],
            "category": "maintenance",
        }
        announcement = self._api("POST", "announcements/", manager, json=body)
        path = f"announcements/{announcement['id']}/"
        started = time.monotonic()
        self._api("POST", f"{path}send/", manager)

        def delivered():
            detail = self._api("GET", path, manager)
            counts = detail["counts"]
            done = detail["status"] == "sent" and counts["pending"] == 0
            return counts if done and counts["recipients"] else None

        counts = self._wait(delivered, "every delivery of the announcement")
        took = time.monotonic() - started
        if counts["failed"] or counts["sent"] + counts["in_digest"] != counts["recipients"]:
            raise StepFailed(f"deliveries: {counts}")
        listed = self._api("GET", "announcements/", self._login("alice"))["results"]
        if announcement["id"] not in {row["id"] for row in listed}:
            raise StepFailed("alice does not see the announcement")
        folded = (
            f", {counts['in_digest']} over the hourly limit folded into their hourly digest"
            if counts["in_digest"]
            else ""
        )
        return (
            f"{counts['recipients']} residents reached {took:.2f}s after send: "
            f"{counts['sent']} notified in-app{folded}; alice sees it"
        )

    def party_room(self):
        alice, manager = self._login("alice"), self._login("manager")
        rooms = self._api("GET", "amenities/?kind=party_room", alice)["results"]
        if not rooms:
            raise StepFailed("alice sees no party room (seed_demo adds one)")
        room = rooms[0]
        slot = None
        for ahead in range(2, room["booking_horizon_days"]):
            day = timezone.localdate() + datetime.timedelta(days=ahead)
            free = self._api("GET", f"amenities/{room['id']}/slots/?date={day}", alice)["slots"]
            if free:
                slot = free[0]
                break
        if slot is None:
            raise StepFailed("the party room has no free slot left")
        booking = self._api(
            "POST",
            "reservations/",
            alice,
            json={
                "amenity": room["id"],
                "starts_at": slot["starts_at"],
                "ends_at": slot["ends_at"],
            },
        )
        if booking["status"] != "requested":
            raise StepFailed(f"the booking is {booking['status']}, not waiting for approval")
        since = timezone.now()
        body = {"status": "approved"}
        self._api("POST", f"reservations/{booking['id']}/transition/", manager, json=body)
        told = self._notified("alice", "reservation_status_resident", since)
        took = (told.sent_at - since).total_seconds()
        return f"{slot['starts_at']} confirmed; alice told {took:.2f}s after the approval"

    def complaint(self):
        resident = self._login("alice")
        since = timezone.now()
        body = {"category": "noise", "subject": "Demo noise", "description": "Drums at night"}
        self._api("POST", "complaints/", resident, json=body)
        told = self._notified("customer_service", "complaint_filed_staff", since)
        return f"customer service notified {(told.sent_at - since).total_seconds():.2f}s later"

    def _complaints_counted(self, property_id):
        return (
            DailyPropertyStat.objects.filter(
                property_id=property_id, metric=Metric.COMPLAINTS_FILED, category="noise"
            ).aggregate(n=Sum("count"))["n"]
            or 0
        )

    def _reports_caught_up(self):
        """Every event this run sent reporting has been recorded (its ledger row)."""
        consumer = "reporting.record_event"
        sent = OutboxMessage.objects.filter(task_name=consumer, created_at__gte=self.started_at)
        recorded = ProcessedMessage.objects.filter(consumer=consumer).values("message_id")
        return not sent.annotate(key=Cast("id", CharField())).exclude(key__in=recorded).exists()

    def worker_killed(self):
        """Hold the report row a reporting task must update, so that the task is caught
        in the middle; kill the pool process running it (this machine's workers only);
        let go; the task runs again and counts the complaint once.

        The previous step's complaint may still be on its way through reporting: it is
        waited for before counting, and the task killed is the one carrying this
        complaint, so that neither is mistaken for the other."""
        resident = self._login("alice")
        property_id = Unit.objects.get(code="OAK-101").property_id
        self._wait(self._reports_caught_up, "reporting caught up with the scenario")
        counted = self._complaints_counted(property_id)
        with transaction.atomic():
            list(
                DailyPropertyStat.objects.select_for_update().filter(
                    property_id=property_id, metric=Metric.COMPLAINTS_FILED
                )
            )
            body = {"category": "noise", "subject": "Demo kill", "description": "Mid-task"}
            complaint = self._api("POST", "complaints/", resident, json=body)

            def carries_the_complaint(task):
                return task["name"] == "reporting.record_event" and any(
                    isinstance(arg, dict)
                    and (arg.get("data") or {}).get("complaint_id") == complaint["id"]
                    for arg in task["args"]
                )

            def running():
                for tasks in (celery_app.control.inspect(timeout=1).active() or {}).values():
                    for task in tasks:
                        if carries_the_complaint(task):
                            return task
                return None

            task = self._wait(running, "the reporting task running")
            try:
                os.kill(task["worker_pid"], signal.SIGKILL)
            except ProcessLookupError as exc:
                raise StepFailed(f"pool process {task['worker_pid']} not on this machine") from exc
        self._wait(
            lambda: ProcessedMessage.objects.filter(
                message_id=task["id"], consumer="reporting.record_event"
            ).exists(),
            "the killed task done after all",
        )
        now_counted = self._complaints_counted(property_id)
        if now_counted != counted + 1:
            raise StepFailed(f"complaint counted {now_counted - counted} times, not once")
        return (
            f"killed pool process {task['worker_pid']} in the middle of {task['name']} "
            f"for complaint {complaint['id']}; redelivered and counted once"
        )

    def poison(self):
        """A complaint event whose complaint is not in the database (as after restoring
        an older backup): customer service cannot load it and dead-letters the message.
        The fix restores the complaint; an admin replays the message through the API and
        customer service is told."""
        admin = self._login("admin")
        complaint_id = (
            Complaint.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ) + 1000
        unit = Unit.objects.get(code="OAK-101")
        resident = unit_current_residencies(unit).first().resident
        # A well-formed complaint.filed (apps.complaints.events.ComplaintFiled) whose
        # complaint is missing.
        envelope = {
            "event": "complaint.filed",
            "version": 1,
            "occurred_at": timezone.now().isoformat(),
            "data": {
                "complaint_id": complaint_id,
                "property_id": unit.property_id,
                "unit_id": unit.id,
                "resident_id": resident.id,
                "category": "noise",
                "version": 1,
                "status": "open",
            },
        }
        with transaction.atomic():
            row = OutboxMessage.objects.create(
                event="complaint.filed",
                task_name="customer_service.notify_complaint_filed",
                queue="complaints",
                payload=[envelope],
                correlation_id=f"demo-{self.run_id}",
            )
        message_id = str(row.id)

        def dead_lettered():
            letters = self._api("GET", "ops/dead-letters/?queue=complaints", admin)["results"]
            return any(letter["message_id"] == message_id for letter in letters)

        self._wait(dead_lettered, "the poison message in complaints.dlq")
        since = timezone.now()
        Complaint.objects.create(
            id=complaint_id,
            property_id=unit.property_id,
            unit=unit,
            resident=resident,
            category="noise",
            subject="Demo: restored complaint",
            description="Restored by the demo's fix",
        )
        # The id was given by hand: move the sequence past it, as a restore would.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Complaint]):
                cursor.execute(sql)
        body = {"message_id": message_id}
        self._api("POST", "ops/dead-letters/complaints/replay/", admin, json=body)
        self._notified("customer_service", "complaint_filed_staff", since)
        return f"message {message_id} dead-lettered; complaint {complaint_id} restored; replayed"

    def reports_move(self):
        manager = self._login("manager")
        self._wait(
            lambda: self._api("GET", "reports/daily/", manager) != self.report_before,
            "a change in the daily report",
        )
        return "the manager's daily report changed during the scenario"
