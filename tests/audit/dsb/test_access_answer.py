"""The Art. 15 answer names all of Art. 15(1)(a)-(h) and 15(3): purposes, categories (labels), recipients and
processors, retention, rights and the supervisory authority, the source, the logic of automated decisions and
who reviewed them, copies of the documents (attached to the PDF) and the access log entries for the person."""
from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader

from audit.models import DataSubjectRequest
from audit.services.access import data_subject_access_export, data_subject_access_request_open
from tests.access import login
from tests.audit.dsb.helpers import ERIKA

pytestmark = pytest.mark.django_db


@pytest.fixture
def answer(world, client):
    dsb = world["team"]["data_protection_officer"]
    login(client, world["team"]["automation_lead"], world["tenant"])
    assert client.get(reverse("work:item-detail", args=[world["items"]["erika_ticket"].pk])).status_code == 200
    request = data_subject_access_request_open(actor=dsb, tenant=world["tenant"], identifier=ERIKA["email"])
    return {"request": request, "dsb": dsb}


def test_the_json_answer_holds_every_part_of_article_15(world, answer):
    export = data_subject_access_export(actor=answer["dsb"], request=answer["request"])
    tickets = export["use_cases"]["tickets"]
    assert tickets["purpose"] and tickets["retention"] and "processors" in tickets
    assert all("_" not in label for label in tickets["categories"]) and tickets["categories"]
    decision = next(d for d in export["automated_decisions"] if d["item"] == str(world["items"]["erika_ticket"].pk))
    assert decision["source"] and decision["logic"] and decision["reviews"][0]["reviewer"] == "clerk"
    assert [d["name"] for d in export["documents"]] == ["brief.txt"]
    assert len(export["rights"]) >= 5 and "77" in export["supervisory_authority"]
    looks = [entry for entry in export["access_log"] if entry["by"] == "automation_lead"]
    assert looks and looks[0]["what"] == "work_item.viewed" and looks[0]["purpose"] == "work item page"
    assert all("source" in record for record in export["master_data"])


def test_the_pdf_answer_reads_as_the_answer_and_carries_the_copies(client, world, answer):
    login(client, answer["dsb"], world["tenant"])
    response = client.get(reverse("audit:request-export", args=[answer["request"].pk, "pdf"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in (ERIKA["email"], "Art. 15", "(a)", "(b)", "(c)", "(d)", "(g)", "(h)", "77",
                     "automation_lead", "brief.txt"):
        assert expected in text, expected
    assert reader.attachments["brief.txt"][0].decode().startswith("Mit freundlichen Grüßen")
    assert DataSubjectRequest.objects.get(pk=answer["request"].pk).status == "open"  # reading changes nothing


def test_the_answer_says_how_long_as_retention_runs(world):
    """Under a statutory retention duty the answer names the years from the end of the calendar year of receipt,
    as retention deletes, and each item the day it is kept until (not a count of days from receipt)."""
    from django.utils import timezone, translation

    from tests.audit.dsb.helpers import SUPPLIER

    request = data_subject_access_request_open(actor=world["team"]["data_protection_officer"],
                                               tenant=world["tenant"], identifier=SUPPLIER["email"])
    with translation.override("en"):
        export = data_subject_access_export(actor=world["team"]["data_protection_officer"], request=request)
    assert export["use_cases"]["rechnungen"]["retention"].startswith(
        "kept for 10 years from the end of the calendar year of receipt")
    invoice = world["items"]["invoice"]
    decision = next(d for d in export["automated_decisions"] if d["item"] == str(invoice.pk))
    assert decision["kept_until"] == f"{timezone.localtime(invoice.created_at).year + 11}-01-01"


def test_the_html_answer_names_fields_engines_and_the_identifier_for_people(client, world, answer):
    """The German answer reads as one: the use case's title, the fields' and engines' names and the kind of
    identifier in words, not their keys (the JSON keeps the keys beside the labels)."""
    login(client, answer["dsb"], world["tenant"], language="de")
    page = client.get(reverse("audit:request-export", args=[answer["request"].pk, "html"])).content.decode()
    use_case = world["items"]["erika_ticket"].use_case
    assert "E-Mail-Adresse" in page and "Identifiziert durch: email" not in page
    assert f"<h3>{use_case.title} · " in page and f"<h3>{use_case.key} · " not in page
    export = data_subject_access_export(actor=answer["dsb"], request=answer["request"])
    suggestions = [s for d in export["automated_decisions"] for s in d["suggestions"]]
    assert suggestions and all(s["engine_label"] and s["field_label"] for s in suggestions)
    assert all(f"<td>{s['engine']}</td>" not in page for s in suggestions if s["engine_label"] != s["engine"])
    # dates as the reader writes them: "01.01.2037", not the JSON's "2037-01-01"
    for day in [export["request"]["received_at"][:10]] + [d["kept_until"] for d in export["automated_decisions"]]:
        assert f"{day[8:10]}.{day[5:7]}.{day[:4]}" in page and day not in page
