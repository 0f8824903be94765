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


def test_records_and_the_art_15_answer_name_the_connectors_a_use_case_delivers_through(world, client):
    """A target system that receives a use case's results is a recipient (Art. 30(1)(d), Art. 15(1)(c)): the
    record of processing (page and PDF) and the person's answer name the connector, how and where it delivers."""
    from io import BytesIO

    from django.urls import reverse
    from pypdf import PdfReader

    from audit.services.access import data_subject_access_export, data_subject_access_request_open
    from tests.access import login
    from tests.audit.dsb.helpers import ERIKA
    from tests.automations.connectors.conftest import approve_connector, name_connectors

    team, tenant = world["team"], world["tenant"]
    approve_connector(tenant, team, "erp", {
        "kind": "connector", "connector_type": "webhook", "direction": "delivery", "name": "ERP Buchhaltung",
        "endpoint": "https://erp.muster.example/hooks", "location": "Rechenzentrum Stuttgart",
        "approved_categories": ["contact"]})
    name_connectors(world["tickets"], team, ["erp"])
    with translation.override("de"):
        record = next(r for r in processing_records(tenant=tenant).records if r.key == "tickets")
    assert record.connectors == [("ERP Buchhaltung (Konnektor: Webhook (signierter HTTP-POST), Zustellung "
                                  "(Ergebnisse gehen hinaus); Standort: Rechenzentrum Stuttgart)")]
    login(client, team["data_protection_officer"], tenant)
    page = client.get(reverse("audit:processing-records")).content.decode()
    assert "ERP Buchhaltung (Konnektor: Webhook" in page
    pdf = client.get(reverse("audit:processing-records-pdf")).content
    assert "ERP Buchhaltung" in " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages)
    request = data_subject_access_request_open(actor=team["data_protection_officer"], tenant=tenant,
                                               identifier=ERIKA["email"])
    with translation.override("de"):
        export = data_subject_access_export(actor=team["data_protection_officer"], request=request)
    assert [c["name"] for c in export["use_cases"]["tickets"]["connectors"]] == ["ERP Buchhaltung"]
    looks = [entry for entry in export["access_log"] if entry["purpose"] == "access_request"]
    assert looks and looks[0]["purpose_label"] == "Auskunftsersuchen" and "_" not in looks[0]["what_label"]
