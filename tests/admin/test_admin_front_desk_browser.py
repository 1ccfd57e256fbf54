"""The security demo user works the front desk in a real headless Chromium: a barcode
scanner types each tracking number and presses Enter into the arrival form (a new line,
never a half-saved form; Enter in any other field moves on), the parcels are logged for the
unit's resident, who is told by a real worker; the desk hands one over with the code."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from apps.front_desk.models import Parcel
from apps.notifications.models import Notification
from tests.admin.test_admin_browser import Staff
from tests.conftest import csp_violations, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(chromium, live_server, clean_queues, start_worker):
    from tests.fixtures.demo import demo_install

    demo_install()
    start_worker("front_desk", "notifications_in_app", concurrency=1)
    return Staff(chromium, live_server.url)


def test_security_logs_scanned_parcels_and_hands_one_over(desk):
    chrome = desk.chrome
    desk.log_in("security")
    desk.click("waiting at the desk")
    desk.click("Add parcel")
    active = chrome.switch_to.active_element
    assert active.get_attribute("name") == "tracking_numbers"  # ready for the scanner
    # The scanner: each number then Enter, as a keyboard would type them.
    active.send_keys("1ZBROWSER0001", Keys.ENTER, "1ZBROWSER0002", Keys.ENTER)
    Select(chrome.find_element(By.NAME, "unit")).select_by_visible_text("OAK-102")
    Select(chrome.find_element(By.NAME, "carrier")).select_by_visible_text("UPS")
    shelf = chrome.find_element(By.NAME, "storage_location")
    shelf.send_keys("shelf D4", Keys.ENTER)  # Enter here moves on; nothing is saved yet
    assert "/add/" in chrome.current_url
    assert chrome.switch_to.active_element.get_attribute("name") == "note"
    assert not Parcel.objects.filter(tracking_number__startswith="1ZBROWSER").exists()
    desk.navigate(chrome.find_element(By.NAME, "_save").click)
    assert "2 parcels logged for" in desk.text(), desk.text()[:1500]
    parcels = list(Parcel.objects.filter(tracking_number__startswith="1ZBROWSER").order_by("pk"))
    assert [(p.tracking_number, p.resident.username, p.storage_location) for p in parcels] == [
        ("1ZBROWSER0001", "bob", "shelf D4"),
        ("1ZBROWSER0002", "bob", "shelf D4"),
    ]
    told = Notification.objects.filter(
        user__username="bob",
        template="parcel_arrived_resident",
        channel="in_app",
        status="sent",
        variables__tracking_number__startswith="1ZBROWSER",
    )
    wait_until(lambda: told.count() == 2, timeout=30, message="bob told of both parcels")
    # Bob comes to the desk with his code.
    desk.open(f"/admin/front_desk/parcel/{parcels[0].pk}/change/")
    desk.step("Hand over", code=parcels[0].pickup_code)
    parcels[0].refresh_from_db()
    assert parcels[0].status == "picked_up"
    assert csp_violations(chrome) == []
