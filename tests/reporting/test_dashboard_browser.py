"""The reports dashboard in a real headless browser (Debian's chromium through Selenium;
scripts/browser.sh installs it): the demo manager logs in, opens the page on the demo
data and every chart is drawn with data in it."""

import shutil

import pytest
from django.core.management import call_command

from apps.ops.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

CHARTS = ["repairs", "backlog", "resolve", "visitors", "complaints", "assets"]
# For every chart: its number of datasets and how many of their points are not zero.
CHART_DATA = """
return Array.from(document.querySelectorAll("canvas[data-chart]")).map((canvas) => {
  const chart = Chart.getChart(canvas);
  const points = chart ? chart.data.datasets.flatMap((d) => d.data) : [];
  return [canvas.dataset.chart, chart ? chart.data.datasets.length : 0,
          points.filter((v) => v !== null && Number(v) !== 0).length,
          canvas.width > 0 && canvas.height > 0];
});
"""


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("chromium and chromedriver are needed: run `bash scripts/browser.sh`")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1800"):  # fmt: skip
        options.add_argument(argument)
    session = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    yield session
    session.quit()


def test_demo_manager_sees_every_chart_drawn_with_data(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    call_command("seed_demo", verbosity=0)
    browser.get(f"{live_server.url}/admin/login/?next=/admin/reports/dashboard/")
    browser.find_element(By.NAME, "username").send_keys("manager")
    browser.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 30).until(
        lambda b: (
            b.execute_script("return document.body.dataset.reportsLoaded === 'true'")
            or b.find_element(By.ID, "report-status").text.startswith("Could not")
        )
    )
    assert browser.find_element(By.ID, "report-status").text == ""
    charts = {name: (datasets, points, drawn) for name, datasets, points, drawn in
              browser.execute_script(CHART_DATA)}  # fmt: skip
    assert sorted(charts) == sorted(CHARTS)
    for name, (datasets, points, drawn) in charts.items():
        assert datasets >= 1 and points > 0 and drawn, (name, charts[name])
    # The manager of Oak Court sees only Oak Court in the picker.
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#property option")]
    assert options == ["All my properties", "Oak Court"]
