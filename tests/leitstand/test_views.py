"""The Leitstand's pages: who may open them, the charts and the CSV say the same numbers, German and English,
and a year of daily figures costs the same few statements as a week."""
import csv
import io
import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leitstand.models import DailyFigures
from leitstand.services import daily_figures_refresh_range
from portal.choices import Role
from tests.access import login
from tests.automations.factories import make_use_case
from tests.leitstand.builders import one_day
from tests.leitstand.conftest import DAY, OUTPUTS

pytestmark = pytest.mark.django_db


def period(since, until) -> str:
    return f"?since={since.isoformat()}&until={until.isoformat()}"


def chart_values(page: str, chart: str) -> dict[tuple[str, str], float]:
    """{(day, series): value} of one chart, read from the SVG's data attributes."""
    svg = re.search(rf'<svg class="chart chart-{chart}".*?</svg>', page, re.S).group(0)
    return {(day, series): float(value) for day, series, value in re.findall(
        r'data-day="([^"]+)" data-series="([^"]+)" data-value="([^"]+)"', svg)}


@pytest.mark.parametrize(("role", "status"), [
    (Role.AUTOMATION_LEAD, 200), (Role.DEPARTMENT_OWNER, 200), (Role.IT_OPERATOR, 200),
    (Role.SECURITY_OFFICER, 200), (Role.AUDITOR, 200), (Role.CLERK, 403), (Role.WORKS_COUNCIL, 403),
])
def test_the_core_team_and_auditors_open_the_leitstand(client, tenant, member, use_case, role, status):
    login(client, member(role), tenant)
    assert client.get(reverse("leitstand:home")).status_code == status
    assert client.get(reverse("leitstand:use-case", args=[use_case.key])).status_code == status
    assert client.get(reverse("leitstand:export")).status_code == status


def test_anonymous_is_sent_to_the_login_and_another_tenants_use_case_is_not_found(
        client, tenant, team, use_case, make_tenant, make_user):
    assert client.get(reverse("leitstand:home"))["Location"].startswith(reverse("portal:login"))
    other = make_tenant("andere", "Andere AG")
    make_use_case(other, make_user("lead_andere", tenant=other, roles=[Role.AUTOMATION_LEAD]), key="fremd")
    login(client, team["automation_lead"], tenant)
    assert client.get(reverse("leitstand:use-case", args=["fremd"])).status_code == 404
    assert client.get(reverse("leitstand:use-case-export", args=["fremd"])).status_code == 404


def test_the_csv_says_what_the_charts_draw(client, tenant, team, use_case):
    for offset in (0, 2):
        one_day(use_case, DAY - timedelta(days=offset), team["clerk"])
    daily_figures_refresh_range(tenant=tenant, since=DAY - timedelta(days=3), until=DAY)
    login(client, team["automation_lead"], tenant)
    query = period(DAY - timedelta(days=3), DAY)
    page = client.get(reverse("leitstand:home") + query).content.decode()
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("leitstand:export") + query).content.decode())))
    assert [row["day"] for row in rows] == [(DAY - timedelta(days=n)).isoformat() for n in (3, 2, 1, 0)]
    by_day = {row["day"]: row for row in rows}

    volume = chart_values(page, "volume")
    two_days_before = (DAY - timedelta(days=2)).isoformat()
    assert volume == {(DAY.isoformat(), "Eingegangen"): 4.0, (two_days_before, "Eingegangen"): 4.0}
    for (day, _series), value in volume.items():
        assert float(by_day[day]["received"]) == value
    outcome = chart_values(page, "outcome")
    assert outcome[(DAY.isoformat(), "Automatisch übernommen")] == float(by_day[DAY.isoformat()]["applied_auto"]) == 1
    rates = chart_values(page, "rates")
    assert rates[(DAY.isoformat(), "Anteil automatisch übernommen")] == float(by_day[DAY.isoformat()]["auto_share"])
    assert rates[(DAY.isoformat(), "Korrekturquote")] == float(by_day[DAY.isoformat()]["correction_rate"]) == \
        round(1 / 3, 4)
    latency = chart_values(page, "latency")
    median = latency[(DAY.isoformat(), "Zeit bis zum Ergebnis, Median")]
    assert median == float(by_day[DAY.isoformat()]["latency_p50_ms"]) == 3_600_000
    backlog = chart_values(page, "backlog")
    assert backlog[(DAY.isoformat(), "SLA-Verletzungen")] == float(by_day[DAY.isoformat()]["sla_breaches"]) == 1
    assert by_day[(DAY - timedelta(days=1)).isoformat()]["received"] == "0"

    fields = client.get(reverse("leitstand:export") + query + "&table=fields").content.decode().splitlines()
    assert "belege,category,2,4,0.5" in fields and "belege,iban,0,4,0.0" in fields and "extract,4" in fields
    assert 'data-category="Belege · Kategorie" data-value="0.5"' in page


def test_the_page_reads_german_and_english(client, tenant, team, use_case):
    one_day(use_case, DAY, team["clerk"])
    daily_figures_refresh_range(tenant=tenant, since=DAY, until=DAY)
    login(client, team["automation_lead"], tenant)
    url = reverse("leitstand:use-case", args=[use_case.key]) + period(DAY - timedelta(days=6), DAY)
    page = client.get(url).content.decode()
    assert "Volumen pro Tag" in page and "Korrekturquote je Feld" in page and "Fehler je Pipeline-Schritt" in page
    assert "33,3 %" in page  # the correction rate, with a German decimal comma
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(url).content.decode()
    assert "Volume per day" in page and "Correction rate per field" in page and "33.3 %" in page


def test_a_bad_period_is_refused_with_a_reason(client, tenant, team):
    login(client, team["automation_lead"], tenant)
    response = client.get(reverse("leitstand:home") + "?since=2026-12-01&until=2026-11-01")
    assert response.status_code == 400 and "Der Zeitraum beginnt nach seinem Ende." in response.content.decode()


def _statements(context) -> list[str]:
    return [q["sql"] for q in context.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_a_year_of_daily_figures_costs_as_few_statements_as_a_week(client, tenant, team, use_case):
    use_cases = [use_case] + [make_use_case(tenant, team["automation_lead"], key=f"fall-{n}", output_fields=OUTPUTS)
                              for n in range(2)]
    today = timezone.localdate()
    DailyFigures.objects.bulk_create([
        DailyFigures(tenant=tenant, use_case=uc, day=today - timedelta(days=n), received=20 + n % 7,
                     applied_auto=10, applied_manual=6, rejected=1, decisions=8, corrected=2,
                     field_corrections={"category": [2, 8], "iban": [0, 8]}, step_failures={"extract": n % 3},
                     latency_count=17, latency_p50_ms=60_000, latency_p95_ms=3_600_000,
                     latency_histogram={"30": 9, "45": 8}, backlog=n % 11, sla_breaches=n % 2,
                     confidence_bands=[0, 0, 0, 1, 1, 2, 3, 4, 10, 30], confidence_sum=42.0, delivery_failures=n % 4)
        for uc in use_cases for n in range(1, 366)])
    login(client, team["automation_lead"], tenant)
    client.get(reverse("leitstand:home"))  # the session and permission caches warm

    counts, seconds = {}, {}
    for days in (7, 365):
        with CaptureQueriesContext(connection) as context:
            started = time.perf_counter()
            response = client.get(reverse("leitstand:home") + f"?days={days}")
            seconds[days] = time.perf_counter() - started
        assert response.status_code == 200
        counts[days] = len(_statements(context))
    print(f"\nLeitstand page: {counts} statements, {seconds} s (a week / a year of 3 use cases)")
    assert counts[365] == counts[7] <= 30, counts
    assert seconds[365] < 5, seconds
    page = response.content.decode()
    assert page.count('class="chart-bar chart-series-0"') >= 365  # a bar a day of the year
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("leitstand:export") + "?days=365").content.decode())))
    assert len(rows) == 365 and rows[0]["received"] == str(sum(20 + 364 % 7 for _ in use_cases))
