"""The records of processing and the works council's page say what the portal does: category labels, not
keys; the employees whose reviews are measured; retention under § 147 AO to the end of the calendar year; and
"affects employees" wherever people's review work is measured, flagged when the use case does not document it."""
import pytest
from django.utils import translation

from audit.selectors.processing_records import processing_records
from audit.selectors.works_council import works_council_report

pytestmark = pytest.mark.django_db


def test_records_name_labels_reviewing_employees_and_the_calendar_year_rule(world):
    with translation.override("en"):
        document = processing_records(tenant=world["tenant"])
    records = {record.key: record for record in document.records}
    tickets, invoices = records["tickets"], records["rechnungen"]
    assert tickets.data_categories and all("_" not in c for c in tickets.data_categories)
    assert "Employees who review its items (decisions, time on task)" in tickets.data_subjects
    assert "end of the calendar year" in invoices.erasure and "§ 147 AO" in invoices.erasure
    assert "days after receipt" in tickets.erasure


def test_the_works_council_page_says_yes_where_people_are_measured(world, client):
    from django.urls import reverse

    from tests.access import login

    report = works_council_report(tenant=world["tenant"])
    tickets = next(row for row in report.use_cases if row.key == "tickets")
    assert not world["tickets"].affects_employees  # not documented ...
    assert tickets.affects_employees and not tickets.documented  # ... yet measured: said, and flagged
    draft = next(row for row in report.use_cases if row.key == "entwurf")
    assert not draft.affects_employees and draft.documented
    login(client, world["team"]["works_council"], world["tenant"])
    page = client.get(reverse("audit:works-council")).content.decode()
    assert 'class="missing"' in page
