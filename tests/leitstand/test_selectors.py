"""The day's figures on constructed data: every figure of a known day, the day boundaries in Berlin time, other
tenants and dry runs left out; the period's report adds days up and reads percentiles from the histograms."""
from datetime import timedelta

import pytest

from automations.choices import ItemStatus
from leitstand.selectors import (
    figures_compute,
    histogram_percentile,
    latency_bucket,
    latency_bucket_value,
    leitstand_report,
    percentile,
)
from portal.choices import Role
from tests.automations.factories import make_use_case
from tests.leitstand.builders import EXPECTED, at, item, one_day
from tests.leitstand.conftest import DAY, OUTPUTS

pytestmark = pytest.mark.django_db


def test_a_known_day_gives_every_figure(tenant, team, use_case):
    one_day(use_case, DAY, team["clerk"])
    figures = figures_compute(tenant=tenant, day=DAY)
    assert list(figures) == [use_case.pk]
    day = figures[use_case.pk]
    for key, value in EXPECTED.items():
        assert day[key] == value, key
    assert day["confidence_sum"] == pytest.approx(0.97 + 0.99 + 0.62 + 0.95)
    assert sum(day["latency_histogram"].values()) == 3


def test_the_day_ends_at_midnight_in_berlin_not_in_utc(tenant, use_case):
    item(use_case, at(DAY, 23, 30))  # 22:30 UTC: still this day in Berlin
    item(use_case, at(DAY + timedelta(days=1), 0, 30))  # 23:30 UTC of this day: the next day in Berlin
    assert figures_compute(tenant=tenant, day=DAY)[use_case.pk]["received"] == 1
    assert figures_compute(tenant=tenant, day=DAY + timedelta(days=1))[use_case.pk]["received"] == 1


def test_other_tenants_and_days_are_not_counted(tenant, team, use_case, make_tenant, make_user):
    other = make_tenant("andere", "Andere AG")
    other_lead = make_user("lead_andere", tenant=other, roles=[Role.AUTOMATION_LEAD])
    other_use_case = make_use_case(other, other_lead, key="fremd", output_fields=OUTPUTS)
    one_day(other_use_case, DAY, make_user("clerk_andere", tenant=other, roles=[Role.CLERK]))
    one_day(use_case, DAY - timedelta(days=1), team["clerk"])
    assert figures_compute(tenant=tenant, day=DAY).get(use_case.pk, {}).get("received", 0) == 0
    assert figures_compute(tenant=other, day=DAY)[other_use_case.pk]["received"] == 4


def test_a_task_done_after_the_day_was_open_at_its_end(tenant, team, use_case):
    from tests.leitstand.builders import task

    late = item(use_case, at(DAY, 8), status=ItemStatus.REVIEW)
    task(late, at(DAY, 8), due=at(DAY + timedelta(days=1), 8), done=at(DAY + timedelta(days=1), 9))
    assert figures_compute(tenant=tenant, day=DAY)[use_case.pk]["backlog"] == 1
    next_day = figures_compute(tenant=tenant, day=DAY + timedelta(days=1))[use_case.pk]
    assert next_day["backlog"] == 0 and next_day["sla_breaches"] == 1  # done an hour after it was due


def test_percentiles_by_nearest_rank_and_from_the_histogram():
    assert percentile([5, 1, 3], 0.5) == 3 and percentile([1, 2, 3, 4], 0.5) == 2 and percentile([], 0.5) is None
    assert percentile(list(range(1, 101)), 0.95) == 95
    for ms in (50, 100, 1000, 3_600_000):
        assert latency_bucket_value(latency_bucket(ms)) == pytest.approx(ms, rel=0.12 if ms >= 100 else 1)
    histogram = {str(latency_bucket(1000)): 90, str(latency_bucket(60_000)): 10}
    assert histogram_percentile(histogram, 0.5) == latency_bucket_value(latency_bucket(1000))
    assert histogram_percentile(histogram, 0.95) == latency_bucket_value(latency_bucket(60_000))


def test_the_report_adds_the_stored_days_up(tenant, team, use_case):
    from leitstand.services import daily_figures_refresh_range

    for offset in range(3):
        one_day(use_case, DAY - timedelta(days=offset), team["clerk"])
    daily_figures_refresh_range(tenant=tenant, since=DAY - timedelta(days=5), until=DAY)
    report = leitstand_report(tenant=tenant, since=DAY - timedelta(days=3), until=DAY)
    assert [d.day for d in report.days] == [DAY - timedelta(days=n) for n in (3, 2, 1, 0)]
    assert report.days[0].figures["received"] == 0 and report.days[1].figures["received"] == 4
    assert report.totals["received"] == 12 and report.totals["applied_auto"] == 3
    assert report.totals["auto_share"] == pytest.approx(3 / 9)
    assert report.totals["correction_rate"] == pytest.approx(3 / 9)
    assert report.totals["step_failures"] == {"extract": 6}
    (category, iban) = report.fields
    assert (category["label"], category["corrected"], category["reviewed"]) == ("Belege · Kategorie", 3, 6)
    assert (iban["corrected"], iban["reviewed"], iban["rate"]) == (0, 6, 0)
    assert [(step["step"], step["failed"]) for step in report.steps] == [("extract", 6)]
    # One use case a day: the day's exact percentiles; over the period: from the added-up histograms.
    assert report.days[1].figures["latency_p50_ms"] == 3_600_000
    assert report.totals["latency_p95_ms"] == latency_bucket_value(latency_bucket(7_200_000))
    assert not report.live_today
