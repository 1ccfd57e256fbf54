import contextlib
import logging
import os
import select
import signal
import time

import psycopg2
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from apps.messaging.models import OUTBOX_NOTIFY_CHANNEL
from apps.messaging.publisher import outbox_sweep

logger = logging.getLogger("apps.messaging.relay")


class _Listener:
    """A connection of its own that LISTENs for the outbox NOTIFY, so that the relay is
    woken at the commit that wrote rows instead of at its next sweep. Any failure drops
    it; `wait` then just sleeps (the sweeps carry on) and the next call reconnects."""

    def __init__(self, channel):
        self.channel = channel
        self._connection = None

    def _connect(self):
        params = connection.get_connection_params()
        listen = psycopg2.connect(**params, application_name="outbox_relay_listener")
        listen.autocommit = True
        with listen.cursor() as cursor:
            cursor.execute(f'LISTEN "{self.channel}"')
        self._connection = listen
        logger.info("listening for outbox notifications on %r", self.channel)

    def ensure(self):
        """Connect if not connected; True if a NOTIFY may have been missed meanwhile."""
        if self._connection is not None:
            return False
        try:
            self._connect()
        except psycopg2.Error as exc:
            logger.warning("cannot listen for outbox notifications, sweeping only: %r", exc)
        return True

    def wait(self, timeout, interrupt):
        """Return once a NOTIFY arrived (True), `interrupt` (a file descriptor) became
        readable or `timeout` passed (False)."""
        if self._connection is None:
            select.select([interrupt], [], [], timeout)
            return False
        try:
            if self._drain():
                return True
            readable, _, _ = select.select([self._connection, interrupt], [], [], timeout)
            return self._connection in readable and self._drain(reraise_closed=True)
        except (psycopg2.Error, OSError) as exc:
            logger.warning("lost the outbox notification connection: %r", exc)
            self.close()
            return True  # a sweep now covers whatever was notified meanwhile

    def _drain(self, reraise_closed=False):
        self._connection.poll()
        woken = bool(self._connection.notifies)
        self._connection.notifies.clear()
        if reraise_closed and self._connection.closed:
            raise psycopg2.OperationalError("connection closed")
        return woken

    def close(self):
        if self._connection is not None:
            with contextlib.suppress(psycopg2.Error):
                self._connection.close()
            self._connection = None


class Command(BaseCommand):
    help = (
        "Publish outbox rows to the broker: woken by NOTIFY at each commit that wrote "
        "rows, and sweeping every OUTBOX_RELAY_INTERVAL for delayed rows, rows backing "
        "off and anything a lost notification left. Several relays may run at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one sweep, then exit")

    def handle(self, *args, once=False, **options):
        self._running = True
        # SIGTERM writes here, so that a relay waiting for its next sweep stops at once.
        self._interrupt, self._interrupt_write = os.pipe()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        interval = settings.OUTBOX_RELAY_INTERVAL
        listener = _Listener(OUTBOX_NOTIFY_CHANNEL)
        logger.info("outbox relay started (woken by NOTIFY, sweeping every %ss)", interval)
        try:
            while self._running:
                if not once:
                    # LISTEN before the sweep, so a commit between the two still wakes us.
                    listener.ensure()
                close_old_connections()
                try:
                    sweep = outbox_sweep()
                except Exception as exc:
                    logger.warning("relay sweep failed, will retry: %r", exc)
                    sweep = None
                    time.sleep(interval)
                if sweep and sweep.published:
                    logger.info("relay published %d messages", sweep.published)
                if once:
                    break
                if not (sweep and sweep.more):
                    # A full batch may have more behind it, and one cut short by a slow
                    # broker has the rest to do: those sweep again at once. Any other
                    # waits, without a sweep that would find nothing: rows committed
                    # while it ran are already notified, and `wait` returns at once.
                    listener.wait(interval, self._interrupt)
        finally:
            listener.close()

    def _stop(self, *_):
        self._running = False
        os.write(self._interrupt_write, b"x")
