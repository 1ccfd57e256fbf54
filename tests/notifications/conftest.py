"""The SMS provider the notification tests talk to: a webhook on loopback."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Webhook:
    """A loopback SMS provider whose answer the test sets."""

    def __init__(self):
        self.status, self.delay, self.received = 503, 0.0, []
        self.headers = []  # each request's headers, in the order received
        self.failing = set()  # numbers answered 503 whatever the status
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                webhook.headers.append(dict(self.headers))
                time.sleep(webhook.delay)
                status = 503 if body["to"] in webhook.failing else webhook.status
                webhook.received.append((status, body))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self, notification_id):
        return [b for s, b in self.received if s == 200 and b["notification_id"] == notification_id]


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.server.shutdown()
