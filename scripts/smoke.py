"""`make smoke`: the README's first command as a newcomer runs it, checked from outside.

Starts `make run` in a session of its own, then over HTTP only: /readyz/ reaches 200 within
a bound; the front page and every page it links answer (Flower 401 without its password,
200 with it); the admin login page, Swagger UI and the reports dashboard (logged in through
the admin's form) answer, and every static file they link answers 200 with its content
type; the demo scenario passes twice in a row; SIGTERM to `make run` stops every process it
started within a bound. Processes are told apart by session and process group (honcho
gives each Procfile process a session of its own), never by name. Exits non-zero on the
first failure, saying which. Standard library only: it needs nothing installed.
"""

import base64
import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "var" / "smoke" / "make-run.log"
WEB_PORT = int(os.environ.get("WEB_PORT", "8000"))
FLOWER_PORT = int(os.environ.get("FLOWER_PORT", "5555"))
WEB = f"http://localhost:{WEB_PORT}"
FLOWER_AUTH = os.environ.get("FLOWER_BASIC_AUTH", "admin:demo-pass-2026")
ADMIN_LOGIN = ("admin", "demo-pass-2026")  # seed_demo's admin
READY_SECONDS = float(os.environ.get("SMOKE_READY_SECONDS", "300"))
STOP_SECONDS = float(os.environ.get("SMOKE_STOP_SECONDS", "30"))
READY_CACHE_SECONDS = float(os.environ.get("OPS_QUEUE_STATUS_CACHE_SECONDS", "5"))
CONTENT_TYPES = {".css": ("text/css",), ".js": ("text/javascript", "application/javascript")}


class SmokeFailed(Exception):
    pass


def say(message):
    print(f"smoke: {message}", flush=True)


# -- processes, by session and process group ------------------------------------------------
def proc_stat(pid):
    """(ppid, pgid, sid) of a live process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has exited; only its parent's wait is missing
        return None
    return int(fields[1]), int(fields[2]), int(fields[3])


def all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def descendants(root):
    children = {}
    for pid in all_pids():
        stat = proc_stat(pid)
        if stat:
            children.setdefault(stat[0], []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def sessions_and_groups(root):
    """The sessions and process groups of `root` and every process under it."""
    seen = set()
    for pid in descendants(root):
        stat = proc_stat(pid)
        if stat:
            seen.update({("session", stat[2]), ("group", stat[1])})
    return seen


def members(ids):
    """Live processes in any of the sessions or process groups `ids`."""
    left = []
    for pid in all_pids():
        stat = proc_stat(pid)
        if stat and (("session", stat[2]) in ids or ("group", stat[1]) in ids):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            left.append((pid, stat[1], stat[2], command.decode(errors="replace").strip()))
    return left


def port_taken(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


# -- HTTP -----------------------------------------------------------------------------------
class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.anchors, self.assets, self.fields = [], [], {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.anchors.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            self.assets.append(attrs["src"])
        elif tag == "link" and "stylesheet" in (attrs.get("rel") or "") and attrs.get("href"):
            self.assets.append(attrs["href"])
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def links(html):
    parser = Links()
    parser.feed(html)
    return parser


class Client:
    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.checked = set()

    def get(self, url, expect=200, headers=None, data=None):
        """(final url, content type, body) of a request that must answer `expect`."""
        request = urllib.request.Request(url, data=data, headers=headers or {})
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=10) as response:
                status, final, body = response.status, response.url, response.read()
                content_type = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            status, final, body = exc.code, url, exc.read()
            content_type = exc.headers.get("Content-Type", "")
        except OSError as exc:
            raise SmokeFailed(f"GET {url}: {exc}") from exc
        took = (time.monotonic() - started) * 1000
        if status != expect:
            raise SmokeFailed(f"GET {url}: {status}, expected {expect}: {body[:200]!r}")
        say(f"ok   {status} {url} ({content_type.split(';')[0] or '-'}, {took:.0f} ms)")
        return final, content_type, body.decode(errors="replace")

    def page(self, url, **kwargs):
        final, content_type, body = self.get(url, **kwargs)
        if not content_type.startswith("text/html"):
            raise SmokeFailed(f"{url}: content type {content_type!r}, expected text/html")
        return final, links(body)

    def assets(self, page_url, parsed):
        """Every same-site static file the page links: 200 with the content type its
        extension calls for. Returns their paths."""
        paths = []
        for src in parsed.assets:
            url = urllib.parse.urljoin(page_url, src)
            path = urllib.parse.urlsplit(url).path
            paths.append(path)
            if urllib.parse.urlsplit(url).netloc != urllib.parse.urlsplit(WEB).netloc:
                continue  # not ours to check
            if url in self.checked:
                continue
            self.checked.add(url)
            _, content_type, _ = self.get(url)
            wanted = CONTENT_TYPES.get(Path(path).suffix)
            if wanted and not content_type.startswith(wanted):
                raise SmokeFailed(f"{url}: content type {content_type!r}, expected {wanted[0]}")
        return paths


def basic_auth(credentials):
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def check_pages(printed_urls):
    client = Client()
    _, front = client.page(f"{WEB}/")
    followed = set()
    for href in front.anchors:
        url = urllib.parse.urljoin(f"{WEB}/", href)
        if url in followed:
            continue
        followed.add(url)
        if urllib.parse.urlsplit(url).port == FLOWER_PORT:
            client.get(url, expect=401)  # the password is asked
            client.page(url, headers=basic_auth(FLOWER_AUTH))
        elif url.rstrip("/").endswith("/schema"):
            _, content_type, body = client.get(url)
            if not body.startswith("openapi:"):
                raise SmokeFailed(f"{url}: not an OpenAPI document ({content_type})")
        elif "/docs" in url:
            docs_url, docs = client.page(url)
            client.assets(docs_url, docs)  # Swagger UI's own scripts and styles
        elif urllib.parse.urlsplit(url).path == "/readyz/":
            # Each web process caches the queue figures for OPS_QUEUE_STATUS_CACHE_SECONDS
            # (5 s): one that last looked before every worker was consuming still says 503.
            deadline = time.monotonic() + READY_CACHE_SECONDS + 1
            while True:
                try:
                    client.get(url)
                    break
                except SmokeFailed as exc:
                    if time.monotonic() > deadline:
                        raise
                    say(f"{exc} (retrying: a web process's cached queue status)")
                    time.sleep(0.5)
        elif urllib.parse.urlsplit(url).path != "/admin/":  # the admin: below
            client.get(url)
    if not any(urllib.parse.urlsplit(url).port == FLOWER_PORT for url in followed):
        raise SmokeFailed("the front page does not link Flower")

    # The admin: its login page (through the front page's link), its CSS, a login.
    admin_url = next((u for u in followed if urllib.parse.urlsplit(u).path == "/admin/"), None)
    if admin_url is None:
        raise SmokeFailed("the front page does not link the admin")
    login_url, login = client.page(admin_url)  # redirected to the login form
    css = [p for p in client.assets(login_url, login) if p.endswith(".css")]
    if not any(p.startswith("/static/admin/css/") for p in css):
        raise SmokeFailed(f"the admin login page links no admin CSS: {login.assets}")
    form = {**login.fields, "username": ADMIN_LOGIN[0], "password": ADMIN_LOGIN[1]}
    final, _ = client.page(
        login_url, data=urllib.parse.urlencode(form).encode(), headers={"Referer": login_url}
    )
    if "/login/" in final:
        raise SmokeFailed(f"logging in to the admin as {ADMIN_LOGIN[0]} failed")

    # The reports dashboard `make run` printed, and its Chart.js.
    if "reports" not in printed_urls:
        raise SmokeFailed(f"`make run` printed no reports URL (printed: {printed_urls})")
    dashboard_url, dashboard = client.page(printed_urls["reports"])
    scripts = client.assets(dashboard_url, dashboard)
    if not any("chart" in Path(p).name and p.endswith(".js") for p in scripts):
        raise SmokeFailed(f"the dashboard links no Chart.js: {dashboard.assets}")


def printed(log_text):
    """The URLs `make run` printed (`  name:   http://...`)."""
    return dict(re.findall(r"^\s+([\w ]+?):\s+(https?://\S+)", log_text, re.M))


# -- the run ----------------------------------------------------------------------------------
def wait_ready(make):
    started = time.monotonic()
    last = "no answer"
    while time.monotonic() - started < READY_SECONDS:
        if make.poll() is not None:
            raise SmokeFailed(f"`make run` exited with {make.returncode} before /readyz/ was 200")
        try:
            with urllib.request.urlopen(f"{WEB}/readyz/", timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except urllib.error.HTTPError as exc:
            last = f"{exc.code} {exc.read()[:300]!r}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise SmokeFailed(f"/readyz/ not 200 within {READY_SECONDS:.0f}s (last: {last})")


def run_demo(run):
    """`make demo` (the README's demo command, with `make run`'s DEBUG default); seconds."""
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", "demo"], cwd=ROOT, capture_output=True, text=True
    )
    for line in (result.stdout + result.stderr).splitlines():
        print(f"  demo {run}| {line}", flush=True)
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise SmokeFailed(f"demo run {run} failed (exit {result.returncode})")
    took = time.monotonic() - started
    say(f"demo run {run} passed in {took:.1f}s")
    return took


def stop(make, ids):
    """SIGTERM to `make run`; every process of its sessions and groups gone within the bound."""
    started = time.monotonic()
    make.send_signal(signal.SIGTERM)
    deadline = started + STOP_SECONDS
    while time.monotonic() < deadline:
        if make.poll() is not None and not members(ids):
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def clean_up(make, ids):
    """After a failure: stop what this `make run` started, gently first."""
    if make.poll() is None:
        ids = ids | sessions_and_groups(make.pid)
        stop(make, ids)
    for pid, *_ in members(ids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if make.poll() is None:
        make.kill()
    make.wait()


def main():
    taken = [port for port in (WEB_PORT, FLOWER_PORT) if port_taken(port)]
    if taken:
        say(
            f"refused: port {' and '.join(map(str, taken))} already in use on 127.0.0.1 "
            "(another `make run`?). Stop it first: the smoke starts its own."
        )
        return 2
    LOG.parent.mkdir(parents=True, exist_ok=True)
    say(f"starting `make run` (output in {LOG.relative_to(ROOT)})")
    started = time.monotonic()
    with open(LOG, "w") as log:
        make = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    ids = {("session", make.pid), ("group", make.pid)}
    try:
        took = wait_ready(make)
        say(f"/readyz/ 200 after {took:.1f}s (bound {READY_SECONDS:.0f}s)")
        ids |= sessions_and_groups(make.pid)
        timings = {"ready": took}
        pages_started = time.monotonic()
        check_pages(printed(LOG.read_text()))
        timings["pages"] = time.monotonic() - pages_started
        for run in (1, 2):
            timings[f"demo {run}"] = run_demo(run)
        ids |= sessions_and_groups(make.pid)
        processes = len(members(ids))
        stopped = stop(make, ids)
        if stopped is None:
            left = members(ids)
            for pid, pgid, sid, command in left:
                say(f"left: pid {pid} group {pgid} session {sid}: {command[:150]}")
            raise SmokeFailed(
                f"SIGTERM to `make run`: {len(left)} process(es) still there after "
                f"{STOP_SECONDS:.0f}s (make {'exited' if make.poll() is not None else 'running'})"
            )
        say(
            f"SIGTERM to `make run`: all {processes} processes gone after {stopped:.1f}s "
            f"(bound {STOP_SECONDS:.0f}s)"
        )
        timings["stop"] = stopped
    except SmokeFailed as exc:
        say(f"FAILED: {exc}")
        tail = LOG.read_text().splitlines()[-25:]
        print("\n".join(f"  make run| {line}" for line in tail), flush=True)
        return 1
    finally:
        clean_up(make, ids)
    steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items())
    say(f"passed in {time.monotonic() - started:.1f}s ({steps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
