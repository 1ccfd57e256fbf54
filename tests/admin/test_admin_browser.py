"""Each staff role does its daily work in the admin in a real headless Chromium, logged in
as the demo user (`seed_demo`): maintenance resolves a repair, security checks a visitor
in and out and registers a walk-in, customer service comments on and resolves a
complaint, the manager sees all three. The Django app runs on pytest-django's live server
against the test database; a real worker turns the events into the resident's
notification rows. The browser is Debian's chromium (scripts/browser.sh installs it)."""

import datetime

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from apps.accounts.models import User
from apps.complaints.models import Complaint
from apps.notifications.models import Notification
from apps.repairs.models import RepairRequest
from apps.visitors.models import Visitor
from tests.conftest import wait_until
from tests.fixtures.demo import DEMO_PASSWORD, demo_install

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

# The staff consumers decide who is told and write the resident's notification row (its
# delivery is the notifications worker's, tested in tests/notifications).
STAFF_QUEUES = ("repair_requests", "complaints", "visitor_management")


class Staff:
    """One person at the admin in the browser."""

    def __init__(self, chrome, base_url):
        self.chrome, self.base_url = chrome, base_url

    def open(self, path):
        self.chrome.get(self.base_url + path)

    def text(self):
        return self.chrome.find_element(By.TAG_NAME, "body").text

    def navigate(self, act):
        """Do `act` (a click) and wait until the next page has loaded."""
        page = self.chrome.find_element(By.TAG_NAME, "html")
        act()
        WebDriverWait(self.chrome, 15).until(expected_conditions.staleness_of(page))

    def click(self, link_text, exact=False):
        # By the link's own text: the admin's CSS upper-cases some buttons on screen.
        match = "normalize-space(.)={0}" if exact else "contains(normalize-space(.), {0})"
        links = self.chrome.find_elements(By.XPATH, f"//a[{match.format(repr(link_text))}]")
        assert links, f"no link {link_text!r} on {self.chrome.current_url}:\n{self.text()[:1500]}"
        self.navigate(links[0].click)

    def log_in(self, username):
        self.chrome.delete_all_cookies()
        self.open("/admin/login/")
        self.chrome.find_element(By.NAME, "username").send_keys(username)
        self.chrome.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
        self.navigate(self.chrome.find_element(By.CSS_SELECTOR, "input[type=submit]").click)
        assert "Site administration" in self.text(), self.text()[:500]

    def step(self, label, **fields):
        """On an object's page: press the step's button, fill its form, confirm."""
        self.click(label)
        for name, value in fields.items():
            field = self.chrome.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)
        confirm = self.chrome.find_element(By.CSS_SELECTOR, f'input[value="{label}"]')
        self.navigate(confirm.click)
        assert f"{label}: 1 done." in self.text(), self.text()[:1000]

    def fill(self, **fields):
        for name, value in fields.items():
            self.chrome.find_element(By.NAME, name).send_keys(value)


@pytest.fixture
def staff(chromium, live_server):
    return Staff(chromium, live_server.url)


@pytest.fixture
def demo(clean_queues):
    return demo_install()


@pytest.fixture
def working_demo(demo, start_worker):
    """The demo with a worker on the staff queues, so that residents are notified."""
    start_worker(*STAFF_QUEUES, concurrency=1)
    return demo


def notified(username, template):
    return Notification.objects.filter(user__username=username, template=template)


def test_maintenance_resolves_a_repair(staff, working_demo):
    repair = working_demo.oak.repair
    staff.log_in("maintenance")
    assert "1 urgent repair open" in staff.text()
    staff.click("1 urgent repair open")
    assert "Eli" not in staff.text()
    staff.click(str(repair.pk), exact=True)
    staff.step("Acknowledge")
    when = timezone.localtime(timezone.now() + datetime.timedelta(days=1))
    staff.step("Schedule", when=f"{when:%Y-%m-%d} 09:30", note="Bring a ladder")
    staff.step("Start work")
    staff.step("Resolve", note="Replaced the washer")
    page = staff.text()
    assert "Replaced the washer" in page and f"Scheduled for {when:%Y-%m-%d} 09:30" in page
    repair.refresh_from_db()
    assert repair.status == "resolved"
    assert list(repair.history.values_list("to_status", flat=True)) == [
        "submitted",
        "acknowledged",
        "scheduled",
        "in_progress",
        "resolved",
    ]
    # The resident hears about it, as when the step is taken through the API.
    wait_until(
        lambda: (
            notified("alice", "repair_status_resident")
            .filter(variables__status="Resolved")
            .exists()
        ),
        timeout=30,
        message="alice's notification of the resolved repair",
    )
    # Off the open list now.
    staff.open("/admin/repairs/repairrequest/")
    assert "0 repair requests" in staff.text()


def test_security_checks_a_visitor_in_and_out_and_registers_a_walk_in(staff, working_demo):
    visitor = working_demo.oak.visitor
    staff.log_in("security")
    assert "0 visitors on site, 1 more expected today" in staff.text()
    staff.click("visitors on site")
    assert "Olga Oakvisitor" in staff.text() and "Eli Elmvisitor" not in staff.text()
    staff.click("Olga Oakvisitor")
    staff.step("Check in")
    wait_until(
        lambda: notified("alice", "visitor_arrived_host").exists(),
        timeout=30,
        message="alice told that her visitor arrived",
    )
    staff.step("Check out")
    visitor.refresh_from_db()
    assert visitor.status == "departed" and visitor.checked_out_by.username == "security"
    assert list(visitor.history.values_list("to_status", flat=True)) == [
        "expected",
        "arrived",
        "departed",
    ]
    # A walk-in: registered on arrival, on site at once.
    staff.open("/admin/visitors/visitor/add/")
    assert "Register a walk-in visitor" in staff.text()
    unit = f"select[name=unit] option[value='{working_demo.oak.visitor.unit_id}']"
    staff.chrome.find_element(By.CSS_SELECTOR, unit).click()
    staff.fill(name="Walter Walkin", purpose="Parcel")
    staff.navigate(staff.chrome.find_element(By.NAME, "_save").click)
    walk_in = Visitor.objects.get(name="Walter Walkin")
    assert (walk_in.status, walk_in.walk_in) == ("arrived", True)
    assert "Walter Walkin" in staff.text()  # on today's list, on site


def test_customer_service_comments_on_and_resolves_a_complaint(staff, working_demo):
    complaint = working_demo.oak.complaint
    staff.log_in("customer_service")
    staff.click("new complaint open")
    staff.click("Loud music")
    staff.step("Comment", body="We have spoken to your neighbour.")
    staff.step("Start review")
    staff.step("Resolve", note="Quiet since Monday")
    assert "We have spoken to your neighbour." in staff.text()
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    assert complaint.comments.get().author.username == "customer_service"
    assert complaint.history.last().note == "Quiet since Monday"
    wait_until(
        lambda: (
            notified("alice", "complaint_updated_resident")
            .filter(variables__comment="We have spoken to your neighbour.")
            .exists()
        ),
        timeout=30,
        message="alice told about the reply",
    )
    wait_until(
        lambda: (
            notified("alice", "complaint_updated_resident")
            .filter(variables__status="Resolved")
            .exists()
        ),
        timeout=30,
        message="alice told the complaint is resolved",
    )


def test_manager_sees_repairs_visitors_and_complaints_of_their_property(staff, demo):
    counts = (RepairRequest.objects.count(), Complaint.objects.count())
    staff.log_in("manager")
    index = staff.text()
    for line in ("1 urgent repair open", "1 more expected today", "1 new complaint open"):
        assert line in index
    for section in (
        "Repair requests",
        "Visitors",
        "Complaints",
        "Units",
        "Residencies",
        "Staff assignments",
        "Users",
    ):
        assert section in index
    assert "Outbox messages" not in index and "Periodic tasks" not in index
    for path, own, other in (
        ("/admin/repairs/repairrequest/", "OAK-101", "ELM-1"),
        ("/admin/visitors/visitor/", "Olga Oakvisitor", "Eli Elmvisitor"),
        ("/admin/complaints/complaint/", "OAK-101", "ELM-1"),
    ):
        staff.open(path)
        page = staff.text()
        assert own in page and other not in page, (path, page[:1500])
    assert (RepairRequest.objects.count(), Complaint.objects.count()) == counts  # only looked
    assert User.objects.get(username="manager").user_permissions.count() == 0
