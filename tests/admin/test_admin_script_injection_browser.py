"""Reflected script injection, tried in a real headless Chromium (scripts/browser.sh): an
administrator follows a crafted dead-letter link and presses every button on the page; the
payload must not run. The Content-Security-Policy forbids inline script, and the pages that
need script (the dead-letter confirmations, Swagger UI) still work under it with no
violation in the browser's console."""

from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import csp_violations
from tests.fixtures.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

DEAD_LETTERS = "/admin/messaging/deadletterreplay/dead-letters/"
# Each breaks out of a JavaScript string (HTML escaping is decoded before an inline handler
# runs), out of an attribute, or out of the element, and marks the page if it runs.
PAYLOADS = [
    "x'+(document.title='pwned',window.name='pwned')+'",
    "x');document.title='pwned';window.name='pwned';('",
    "\"><img src=x onerror=\"document.title='pwned';window.name='pwned'\">",
    "</script><script>document.title='pwned';window.name='pwned'</script>",
]


@pytest.fixture
def admin_browser(chromium, live_server, clean_queues):
    call_command("seed_demo", verbosity=0)
    chromium.delete_all_cookies()
    chromium.get(f"{live_server.url}/admin/login/")
    chromium.find_element(By.NAME, "username").send_keys("admin")
    chromium.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    chromium.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(chromium, 15).until(expected_conditions.title_contains("Site administration"))
    chromium.execute_script("window.name = 'clean'")
    chromium.get_log("browser")  # start the console afresh
    return chromium


def dismiss_dialog(chrome):
    """The text of the confirmation dialog the click opened (dismissed), or None."""
    try:
        WebDriverWait(chrome, 2).until(expected_conditions.alert_is_present())
    except Exception:
        return None
    alert = chrome.switch_to.alert
    text = alert.text
    alert.dismiss()
    return text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_crafted_dead_letter_link_runs_no_script(admin_browser, live_server, payload):
    chrome = admin_browser
    link = f"{live_server.url}{DEAD_LETTERS}?" + urlencode({"queue": payload})
    chrome.get(link)
    assert "Dead letters" in chrome.find_element(By.TAG_NAME, "body").text
    buttons = len(chrome.find_elements(By.CSS_SELECTOR, "#content button"))
    for index in range(buttons):
        chrome.get(link)
        chrome.find_elements(By.CSS_SELECTOR, "#content button")[index].click()
        dismiss_dialog(chrome)
        assert chrome.title != "pwned"
        assert chrome.execute_script("return window.name") == "clean"
    assert chrome.title != "pwned"
    assert chrome.execute_script("return window.name") == "clean"


def test_purge_all_asks_first_under_the_policy(admin_browser, live_server):
    """The confirmation moved to a static script: it still asks, and a "no" sends nothing."""
    chrome = admin_browser
    chrome.get(f"{live_server.url}{DEAD_LETTERS}?queue=repair_requests")
    page = chrome.find_element(By.TAG_NAME, "html")
    chrome.find_element(By.XPATH, "//button[normalize-space(.)='Purge all']").click()
    assert dismiss_dialog(chrome) == "Purge every dead letter in repair_requests?"
    assert not expected_conditions.staleness_of(page)(chrome)  # the form was not submitted
    assert csp_violations(chrome) == []


def test_swagger_ui_works_under_the_policy(chromium, live_server):
    chromium.get(f"{live_server.url}/api/v1/docs/")
    chromium.get_log("browser")
    chromium.refresh()
    WebDriverWait(chromium, 30).until(
        lambda c: c.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock")
    )
    assert "propmgmt API" in chromium.find_element(By.CSS_SELECTOR, ".swagger-ui .info").text
    assert len(chromium.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock")) > 50
    assert csp_violations(chromium) == []
