"""The reports dashboard in a real headless browser (Debian's chromium through Selenium;
scripts/browser.sh installs it): the demo manager logs in, opens the page on the demo
data and every chart is drawn with data in it (the moves chart once the move job has run)."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.ops.management.commands.seed_demo import DEMO_PASSWORD
from apps.properties.services import residency_moves_process
from apps.reporting.services import report_period_reconcile
from tests.conftest import csp_violations

pytestmark = pytest.mark.django_db(transaction=True)

CHARTS = [
    "repairs",
    "backlog",
    "resolve",
    "visitors",
    "complaints",
    "assets",
    "amenities",
    "parcels",
    "moves",
]
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


def test_demo_manager_sees_every_chart_drawn_with_data(live_server, chromium):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    call_command("seed_demo", verbosity=0)
    # The move job has run once (beat runs it hourly): the demo residents moved in.
    residency_moves_process()
    report_period_reconcile(timezone.localdate(), timezone.localdate())
    chromium.get(f"{live_server.url}/admin/login/?next=/admin/reports/dashboard/")
    chromium.find_element(By.NAME, "username").send_keys("manager")
    chromium.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    chromium.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(chromium, 30).until(
        lambda b: (
            b.execute_script("return document.body.dataset.reportsLoaded === 'true'")
            or b.find_element(By.ID, "report-status").text.startswith("Could not")
        )
    )
    assert chromium.find_element(By.ID, "report-status").text == ""
    charts = {
        name: (datasets, points, drawn)
        for name, datasets, points, drawn in chromium.execute_script(CHART_DATA)
    }
    assert sorted(charts) == sorted(CHARTS)
    for name, (datasets, points, drawn) in charts.items():
        assert datasets >= 1 and points > 0 and drawn, (name, charts[name])
    # The manager of Oak Court sees only Oak Court in the picker.
    options = [o.text for o in chromium.find_elements(By.CSS_SELECTOR, "#property option")]
    assert options == ["All my properties", "Oak Court"]
    assert csp_violations(chromium) == []  # everything above ran under the policy
