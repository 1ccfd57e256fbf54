"""The providers the notification tests talk to, on loopback: an SMS webhook (honouring
idempotency keys) and an SMTP server (honouring none)."""

import email
import json
import socketserver
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


class _ThreadingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True


class SmtpProvider:
    """A loopback SMTP server that honours no idempotency key, as a real mail relay: it
    accepts and records every message it is given (`received`, parsed), duplicates too.

    `on_accept(message)` runs after a message is received and before it is acknowledged
    with 250; `refuse` connections are answered 421 and closed (counted in `refused`);
    `delay` holds each 250 reply that many seconds (a slow provider)."""

    def __init__(self):
        self.received, self.refused, self.refuse, self.delay = [], 0, 0, 0.0
        self.on_accept = None
        provider = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                if provider.refuse:
                    provider.refuse -= 1
                    provider.refused += 1
                    self.reply("421 try again later")
                    return
                self.reply("220 double ESMTP")
                while line := self.rfile.readline():
                    command = line.decode().strip().upper()
                    if command.startswith(("EHLO", "HELO")):
                        self.reply("250 double")
                    elif command == "DATA":
                        self.reply("354 go ahead")
                        data = b"".join(iter(self.rfile.readline, b".\r\n"))
                        message = email.message_from_bytes(data)
                        provider.received.append(message)
                        if provider.on_accept:
                            provider.on_accept(message)
                        time.sleep(provider.delay)
                        self.reply("250 accepted")
                    elif command == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # MAIL, RCPT, RSET, NOOP
                        self.reply("250 ok")

        self.server = _ThreadingServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def worker_env(self, backend="django.core.mail.backends.smtp.EmailBackend", **env):
        """The environment of a notifications worker that mails through this provider."""
        return {
            "NOTIFICATION_EMAIL_BACKEND": backend,
            "EMAIL_URL": f"smtp://127.0.0.1:{self.port}",
            **env,
        }

    def copies(self, notification_id):
        """The messages received for one notification, in order."""
        return [m for m in self.received if m["X-Notification-Id"] == str(notification_id)]


@pytest.fixture
def smtp_provider():
    provider = SmtpProvider()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()
