"""The relay against a broker that is slow, not dead: every sweep marks what was
confirmed and the next one carries on from there."""

import contextlib
import socket
import threading
import time
from urllib.parse import quote

import pytest
from django.db import transaction

from apps.messaging import publisher as publisher_module
from apps.messaging.models import OutboxMessage
from apps.messaging.publisher import outbox_publish_due, publish
from tests.conftest import queue_depth, wait_until
from tests.probe.events import probe_event

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


class SlowLink:
    """A TCP proxy to the real broker that forwards what the client sends at
    `bytes_per_second` (and the broker's answers at full speed): a broker that reads
    slowly, as under flow control. Its receive buffer is small, so a client that sends
    faster than that blocks in its own send."""

    def __init__(self, bytes_per_second):
        self.rate = bytes_per_second
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.sockets = [self.server]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self):
        return self.server.getsockname()[1]

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", 5672))
            self.sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source, destination, throttled):
        try:
            while chunk := source.recv(4096):
                destination.sendall(chunk)
                if throttled:
                    time.sleep(len(chunk) / self.rate)
        except OSError:
            pass
        for sock in (source, destination):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self):
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def slow_relay(monkeypatch, broker_vhost, clean_queues):
    """The relay's publisher, connecting through a SlowLink (1.5 MB/s), with sweeps
    of at most one second; the rest of the test talks to the broker directly."""
    link = SlowLink(bytes_per_second=1_500_000)
    url = f"amqp://guest:guest@127.0.0.1:{link.port}/{quote(broker_vhost, safe='')}"
    publisher = publisher_module.ConfirmingPublisher(url, timeout=1.0)
    monkeypatch.setattr(publisher_module, "_publisher", lambda: publisher)
    yield publisher
    publisher.reset()
    link.close()


def test_a_slow_broker_gets_every_row_sweep_by_sweep_without_a_loop_of_duplicates(slow_relay):
    # 300 rows of 20 kB: 6 MB, four seconds of the link; a sweep may take one.
    with transaction.atomic():
        rows = [
            publish(probe_event("probe.happened", {"key": f"slow-{i}", "filler": "x" * 20_000}))[0]
            for i in range(300)
        ]
    unpublished = OutboxMessage.objects.filter(published_at__isnull=True)
    progress = []
    deadline = time.monotonic() + 40
    while unpublished.exists() and time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # a sweep that confirmed nothing raises
            outbox_publish_due()
        progress.append(unpublished.count())
    assert not unpublished.exists(), f"rows left unpublished after each sweep: {progress}"
    # Each sweep marked what was confirmed: the count only went down, and most sweeps
    # made progress (no sweep re-sent the same first rows while the rest waited).
    assert progress == sorted(progress, reverse=True)
    assert len(progress) <= 25, progress
    # What a sweep sent but could not see confirmed is sent again: a bounded number of
    # copies (the consumers' ledger skips them), not a loop.
    wait_until(lambda: queue_depth("reporting") >= len(rows), message="all in the queue")
    assert queue_depth("reporting") <= len(rows) * 1.2
