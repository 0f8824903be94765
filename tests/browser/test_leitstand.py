"""The Leitstand in real Chromium: its charts render as SVG drawn by the server, with no request leaving loopback
(every request recorded) and no console error under the Content-Security-Policy."""
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from leitstand.services import daily_figures_refresh_range
from tests.automations.factories import make_team, make_use_case
from tests.browser.conftest import log_in
from tests.leitstand.builders import one_day
from tests.leitstand.conftest import OUTPUTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_leitstand_draws_its_charts_from_loopback_only(browser_page, tenant, member):
    team = make_team(member)
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", output_fields=OUTPUTS)
    today = timezone.localdate()
    for offset in (1, 3, 4, 8):
        one_day(use_case, today - timedelta(days=offset), team["clerk"])
    daily_figures_refresh_range(tenant=tenant, since=today - timedelta(days=10), until=today)

    page = browser_page
    requests, problems = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in(page, "automation_lead")
    # The home page shows the Leitstand's panel with two charts.
    assert page.locator(".panel-leitstand svg.chart").count() == 2

    page.goto(f"{page.base_url}/leitstand/?days=30")
    page.wait_for_load_state("load")
    charts = page.locator("figure.chart-card svg.chart")
    assert charts.count() == 10
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 80, index
    assert page.locator("svg.chart-volume rect.chart-bar").count() == 4  # one bar a day with items
    # Coloured by the stylesheet, not by inline style: a bar is filled, a line is not.
    bar_fill = page.locator("svg.chart-volume rect.chart-bar").first.evaluate("e => getComputedStyle(e).fill")
    assert bar_fill not in ("", "none", "rgb(0, 0, 0)")
    assert page.locator("svg.chart-rates polyline").first.evaluate("e => getComputedStyle(e).fill") == "none"
    assert page.get_by_role("heading", name="Volumen pro Tag").is_visible()

    page.locator("#leitstand-use-cases a", has_text="Belege").click()
    page.wait_for_load_state("load")
    assert page.locator("figure.chart-card svg.chart").count() == 10
    assert "50,0 %" in page.locator("svg.chart-fields").inner_html()  # 4 of 8 decisions changed it

    with page.expect_download() as download:
        page.locator("#leitstand-csv").click()
    assert download.value.suggested_filename.startswith("leitstand-belege-days-")

    assert problems == []
    hosts = {urlsplit(url).hostname for url in requests if not url.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
