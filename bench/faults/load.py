"""The load: residents post repairs (some urgent) and complaints, pre-register visitors,
book the suite's studio and cancel some bookings; guards check visitors in, register
walk-ins, check visitors out, log parcels and hand them over to residents who read their
pickup code. Everything goes through the real REST API with token logins, from a few
client threads."""

import itertools
import random
import re
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests

REPAIR_CATEGORIES = ("plumbing", "electrical", "heating", "appliance", "structural", "pest")
COMPLAINT_CATEGORIES = ("noise", "cleanliness", "security", "neighbour", "billing", "other")
# What a client does next, by weight.
OPERATIONS = {
    "repair": 30,
    "urgent_repair": 6,
    "complaint": 22,
    "visit": 24,
    "walk_in": 10,
    "check_out": 8,
    "parcel": 10,
    "pick_up": 6,
    "book": 10,
    "cancel": 4,
}
CARRIERS = ("ups", "dhl", "postal")
# Where the desk stores the load's parcels (tells them from the demo's).
PARCEL_SHELF = "fault suite shelf"
# A parcel is handed over, a booking cancelled, only once its resident found its notice
# in their in-app inbox (a parcel picked up or a booking cancelled before its notice came
# is, by design, never told), looked for at most this often and this deep.
SETTLE_SECONDS = 10.0
INBOX_PAGES = 3
PICKUP_CODE = re.compile(r"Your pickup code: (\S+)")
# Bookings start on the next slot past this, so their reminder (an hour before, through
# the outbox's delayed delivery) comes due a few minutes later, while the suite runs.
BOOKING_LEAD = timedelta(hours=1, seconds=30)
REQUEST_TIMEOUT = 30
# Marks a 503 answer without the Retry-After header the API promises with it.
NO_RETRY_AFTER = "Retry-After missing: "
# The events these requests cause (and the notifications their consumers request).
EVENTS = (
    "repair.requested",
    "complaint.filed",
    "visitor.expected",
    "visitor.arrived",
    "visitor.departed",
    "parcel.arrived",
    "parcel.status_changed",
    "reservation.booked",
    "reservation.status_changed",
    "reservation.reminder_due",
    "notification.email_batch_requested",
    "notification.in_app_batch_requested",
)


def busy_queues():
    """The queues the load puts messages on."""
    import celeryconfig

    return {
        celeryconfig.TASK_QUEUES[task]
        for event in EVENTS
        for task in celeryconfig.EVENT_SUBSCRIPTIONS[event]
    }


@dataclass
class Outcome:
    operation: str
    status: int | None  # None: no answer (connection refused or reset, timeout)
    error: str = ""
    object_id: int | None = None
    seconds: float = 0.0
    at: float = 0.0  # time.monotonic() when sent


class Load:
    def __init__(self, base_url, world, *, clients, seed, log):
        self.base = base_url.rstrip("/") + "/api/v1/"
        self.world = world
        self.clients = clients
        self.random = random.Random(seed)
        self.log = log
        self.tokens = {}
        self.outcomes = []
        self.arrived = []  # (guard, visitor id) that can be checked out
        # (logged at, guard, resident, parcel id, tracking number) waiting at the desk
        self.parcels = []
        self.bookings = []  # (booked at, resident, reservation id) that can be cancelled
        self._lock = threading.Lock()
        self._names = itertools.count(1)
        self.stop = threading.Event()

    # --- bookkeeping -------------------------------------------------------------
    @property
    def sent(self):
        return len(self.outcomes)

    @property
    def answered(self):
        return sum(1 for outcome in self.outcomes if outcome.status is not None)

    def record(self, outcome):
        with self._lock:
            self.outcomes.append(outcome)

    def summary(self):
        counts = Counter()
        for outcome in self.outcomes:
            counts[outcome.status if outcome.status is not None else "no answer"] += 1
        return counts

    # --- HTTP ----------------------------------------------------------------------
    def latencies(self):
        """Seconds per answered request: median, 95th percentile, maximum."""
        times = sorted(o.seconds for o in self.outcomes if o.status is not None)
        if not times:
            return None
        return times[len(times) // 2], times[int(len(times) * 0.95)], times[-1]

    def slow(self, seconds):
        """Answered requests that took longer than `seconds`."""
        return [o for o in self.outcomes if o.status is not None and o.seconds > seconds]

    def _login(self, username):
        response = requests.post(
            self.base + "auth/token/",
            json={"username": username, "password": self.world.password},
            timeout=REQUEST_TIMEOUT,
        )
        response.raise_for_status()
        self.tokens[username] = response.json()["token"]

    def login_all(self):
        users = list(self.world.residents) + sorted(set(self.world.guards.values()))
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(self._login, users))

    def _post(self, session, operation, user, path, payload=None, *, method="post"):
        """Send one request as `user`; return the answer's body when it was 2xx."""
        started = time.monotonic()
        try:
            response = session.request(
                method,
                self.base + path,
                json=(payload or {}) if method == "post" else None,
                headers={
                    "Authorization": f"Token {self.tokens[user]}",
                    "X-Request-ID": f"faults-{uuid.uuid4().hex[:16]}",
                },
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as exc:
            self.record(Outcome(operation, None, type(exc).__name__))
            time.sleep(0.5)  # the web process is restarting: do not spin
            return None
        body = object_id = None
        if 200 <= response.status_code < 300:
            body = response.json()
            # The desk's parcel log answers with a list, one parcel per tracking number.
            object_id = body.get("id") if isinstance(body, dict) else [p["id"] for p in body]
        error = "" if response.status_code < 400 else response.text[:300]
        if response.status_code == 503 and "Retry-After" not in response.headers:
            error = NO_RETRY_AFTER + error
        elif response.status_code == 503:
            # As a client should: the database is restarting, wait as long as asked.
            retry_after = response.headers["Retry-After"]
            time.sleep(min(float(retry_after), 5.0) if retry_after.isdigit() else 1.0)
        seconds = time.monotonic() - started
        self.record(Outcome(operation, response.status_code, error, object_id, seconds, started))
        return body

    # --- operations ------------------------------------------------------------------
    def _resident(self, rng):
        return rng.choice(sorted(self.world.residents))

    def _name(self):
        return f"Visitor {next(self._names)}-{uuid.uuid4().hex[:8]}"

    def run_operation(self, session, rng, operation):
        if operation in ("repair", "urgent_repair"):
            self._post(
                session,
                operation,
                self._resident(rng),
                "repairs/",
                {
                    "category": rng.choice(REPAIR_CATEGORIES),
                    "description": f"fault suite {uuid.uuid4().hex[:8]}",
                    "urgency": "urgent" if operation == "urgent_repair" else "normal",
                },
            )
        elif operation == "complaint":
            self._post(
                session,
                operation,
                self._resident(rng),
                "complaints/",
                {
                    "category": rng.choice(COMPLAINT_CATEGORIES),
                    "subject": "fault suite",
                    "description": f"complaint {uuid.uuid4().hex[:8]}",
                },
            )
        elif operation == "visit":
            resident = self._resident(rng)
            guard = self.world.guards[self.world.residents[resident]]
            arrival = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
            visitor = self._post(
                session,
                "pre_register",
                resident,
                "visitors/",
                {"name": self._name(), "expected_arrival": arrival},
            )
            visitor = visitor and visitor["id"]
            checked_in = visitor is not None and self._post(
                session, "check_in", guard, f"visitors/{visitor}/check-in/"
            )
            if checked_in:
                with self._lock:
                    self.arrived.append((guard, visitor))
        elif operation == "walk_in":
            code = rng.choice(sorted(self.world.units))
            guard = self.world.guards[code]
            visitor = self._post(
                session,
                operation,
                guard,
                "visitors/walk-in/",
                {"unit": rng.choice(self.world.units[code]), "name": self._name()},
            )
            if visitor is not None:
                with self._lock:
                    self.arrived.append((guard, visitor["id"]))
        elif operation == "check_out":
            with self._lock:
                if not self.arrived:
                    return
                guard, visitor = self.arrived.pop(rng.randrange(len(self.arrived)))
            self._post(session, operation, guard, f"visitors/{visitor}/check-out/")
        elif operation == "parcel":
            self._parcel_log(session, rng)
        elif operation == "pick_up":
            self._pick_up(session, rng)
        elif operation == "book":
            self._book(session, rng)
        elif operation == "cancel":
            booking = self._settled(self.bookings, rng)
            if booking is None:
                return
            _, resident, reservation = booking
            if not self._told(session, resident, f"Your booking #{reservation} of "):
                with self._lock:
                    self.bookings.append((time.monotonic(), resident, reservation))
                return
            self._post(
                session,
                operation,
                resident,
                f"reservations/{reservation}/transition/",
                {"status": "cancelled", "note": "fault suite"},
            )

    def _parcel_log(self, session, rng):
        """The desk logs one or two parcels for a resident (by their unit)."""
        resident = self._resident(rng)
        guard = self.world.guards[self.world.residents[resident]]
        numbers = [f"FS{uuid.uuid4().hex[:14].upper()}" for _ in range(rng.choice((1, 1, 2)))]
        logged = self._post(
            session,
            "parcel",
            guard,
            "parcels/",
            {
                "unit": self.world.unit_of[resident],
                "carrier": rng.choice(CARRIERS),
                "tracking_numbers": numbers,
                "storage_location": PARCEL_SHELF,
            },
        )
        if logged is not None:
            with self._lock:
                self.parcels += [
                    (time.monotonic(), guard, resident, p["id"], p["tracking_number"])
                    for p in logged
                ]

    def _settled(self, items, rng):
        """Take one of `items` (made at, ...) at random, made SETTLE_SECONDS ago or more."""
        with self._lock:
            ready = [item for item in items if time.monotonic() - item[0] >= SETTLE_SECONDS]
            if not ready:
                return None
            item = ready[rng.randrange(len(ready))]
            items.remove(item)
            return item

    def _told(self, session, resident, text):
        """The body of the resident's in-app notice containing `text`, if they have it."""
        for page in range(1, INBOX_PAGES + 1):
            inbox = self._post(
                session, "inbox", resident, f"notifications/?page={page}", method="get"
            )
            if inbox is None:
                return None
            for notice in inbox["results"]:
                if text in notice["body_text"]:
                    return notice["body_text"]
            if not inbox["next"]:
                return None
        return None

    def _pick_up(self, session, rng):
        """The resident reads the parcel's pickup code in their notice, the desk hands the
        parcel over with it (later, if the notice has not come yet)."""
        parcel = self._settled(self.parcels, rng)
        if parcel is None:
            return
        _, guard, resident, parcel_id, tracking_number = parcel
        notice = self._told(session, resident, f"tracking {tracking_number},")
        if notice is None:
            with self._lock:
                self.parcels.append((time.monotonic(), *parcel[1:]))
            return
        self._post(
            session,
            "pick_up",
            guard,
            f"parcels/{parcel_id}/pick-up/",
            {"code": PICKUP_CODE.search(notice).group(1)},
        )

    def _book(self, session, rng):
        """A resident books the suite's studio at the property for one slot starting a
        little over an hour from now (its reminder comes due during the run)."""
        resident = self._resident(rng)
        amenity = self.world.amenities[self.world.residents[resident]]
        slot = timedelta(minutes=self.world.slot_minutes)
        earliest = datetime.now(UTC) + BOOKING_LEAD
        midnight = earliest.replace(hour=0, minute=0, second=0, microsecond=0)
        starts = midnight + -(-(earliest - midnight) // slot) * slot
        booked = self._post(
            session,
            "book",
            resident,
            "reservations/",
            {
                "amenity": amenity,
                "starts_at": starts.isoformat(),
                "ends_at": (starts + slot).isoformat(),
            },
        )
        if booked is not None:
            with self._lock:
                self.bookings.append((time.monotonic(), resident, booked["id"]))

    def _client(self, index):
        rng = random.Random(self.random.random() + index)
        names, weights = zip(*OPERATIONS.items(), strict=True)
        session = requests.Session()
        while not self.stop.is_set():
            self.run_operation(session, rng, rng.choices(names, weights)[0])

    def start(self):
        self.threads = [
            threading.Thread(target=self._client, args=(i,), name=f"client-{i}", daemon=True)
            for i in range(self.clients)
        ]
        for thread in self.threads:
            thread.start()

    def join(self, timeout=60):
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
