"""Test cases: by hand (checked against the field schema, historised, audited), imported from CSV, JSON Lines
and a zip of files (bad rows reported with their line, nothing dropped silently), and taken from a reviewed
item with one click."""
import io
import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from automations.evaluation.models import QualityTestCase
from automations.evaluation.selectors import quality_test_case_list
from automations.evaluation.services import test_cases
from portal.choices import Role

pytestmark = pytest.mark.django_db


def test_a_case_by_hand_is_checked_historised_and_audited(belege, lead):
    case = test_cases.test_case_create(actor=lead, use_case=belege, title="Mahnung Stufe 2",
                                       payload={"text": "Zweite Mahnung zur Rechnung RE-1"},
                                       expected={"document_class": "reminder"}, tags=["critical", "edge_case"])
    assert case.tags == ["critical", "edge_case"] and case.created_by == lead
    test_cases.test_case_update(actor=lead, test_case=case, reason="Klasse korrigiert",
                                expected={"document_class": "invoice"})
    history = list(case.history.order_by("history_id").values_list("expected", "history_user", "history_change_reason"))
    assert history == [({"document_class": "reminder"}, lead.pk, "created"),
                       ({"document_class": "invoice"}, lead.pk, "Klasse korrigiert")]
    assert list(AuditEvent.objects.filter(tenant=belege.tenant, event_type__startswith="test_case.")
                .order_by("pk").values_list("event_type", flat=True)) == ["test_case.created", "test_case.updated"]
    test_cases.test_case_retire(actor=lead, test_case=case, reason="veraltet")
    assert not quality_test_case_list(use_case=belege).exists()


@pytest.mark.parametrize("values,message", [
    ({"expected": {}}, "at least one output field"),
    ({"expected": {"document_class": "unknown"}}, "not one of the allowed values"),
    ({"expected": {"iban": "x"}}, "Not output fields"),
    ({"payload": {"subject": "x"}}, "Not input fields"),
    ({"payload": {}}, "Give the input"),
    ({"tags": ["wichtig"]}, "Unknown tags"),
])
def test_bad_cases_are_refused_with_the_reason(belege, lead, values, message):
    arguments = {"payload": {"text": "Rechnung"}, "expected": {"document_class": "invoice"}} | values
    with pytest.raises(ValidationError) as error:
        test_cases.test_case_create(actor=lead, use_case=belege, **arguments)
    assert message in " ".join(error.value.messages)


def test_only_the_core_team_keeps_test_cases(belege, member):
    with pytest.raises(PermissionDenied):
        test_cases.test_case_create(actor=member(Role.CLERK), use_case=belege, payload={"text": "Rechnung"},
                                    expected={"document_class": "invoice"})


def test_csv_import_keeps_good_rows_and_reports_each_bad_one(belege, lead):
    data = (b"title;text;document_class;tags\n"
            b"Rechnung;Rechnung Nr. 1;invoice;typical\n"
            b"Falsche Klasse;Lieferschein 7;lieferschein;typical\n"
            b"Mahnung;Letzte Mahnung;reminder;critical|edge_case\n"
            b"Ohne Eingabe;;invoice;\n")
    report = test_cases.test_cases_import(actor=lead, use_case=belege, data=data, name="faelle.csv")
    assert report.rows == 4 and len(report.created) == 2
    assert [where for where, _why in report.bad] == ["faelle.csv:3", "faelle.csv:5"]
    assert "not one of the allowed values" in report.bad[0][1] and "Give the input" in report.bad[1][1]
    reminder = QualityTestCase.objects.get(pk=report.created[1])
    assert reminder.tags == ["critical", "edge_case"] and reminder.source == "import"
    assert reminder.source_ref == "faelle.csv:4"
    event = AuditEvent.objects.get(tenant=belege.tenant, event_type="test_cases.imported")
    assert event.details == {"use_case": "belege", "rows": 4, "created": 2, "bad": 2, "unused_files": 0}


def test_jsonl_import_reports_malformed_lines_and_unknown_columns(belege, lead):
    lines = [json.dumps({"title": "a", "input": {"text": "Rechnung 5"}, "expected": {"document_class": "invoice"}}),
             "{not json",
             json.dumps({"text": "Mahnung", "expected.document_class": "reminder", "colour": "red"}),
             json.dumps({"text": "Mahnung", "expected.document_class": "reminder"})]
    report = test_cases.test_cases_import(actor=lead, use_case=belege, data="\n".join(lines).encode(),
                                          name="faelle.jsonl")
    assert len(report.created) == 2
    assert [where for where, _why in report.bad] == ["faelle.jsonl:2", "faelle.jsonl:3"]
    assert "malformed JSON" in report.bad[0][1] and "colour" in report.bad[1][1]
    assert QualityTestCase.objects.get(pk=report.created[1]).text == "Mahnung"


def test_a_zip_brings_files_named_by_its_list_and_reports_what_it_does_not_use(belege, lead):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("faelle.csv", "title,file,document_class\nRE,rechnung.txt,invoice\nFehlt,weg.txt,invoice\n")
        archive.writestr("rechnung.txt", "Rechnung Nr. 99")
        archive.writestr("uebrig.txt", "nicht genannt")
    report = test_cases.test_cases_import(actor=lead, use_case=belege, data=buffer.getvalue(), name="faelle.zip")
    assert len(report.created) == 1 and report.bad == [("faelle.csv:3", "The file weg.txt is not in the upload.")]
    assert report.unused_files == ["uebrig.txt"]
    case = QualityTestCase.objects.get(pk=report.created[0])
    assert case.file_name == "rechnung.txt" and case.file.read() == b"Rechnung Nr. 99"


def test_a_zip_without_exactly_one_list_is_refused(belege, lead):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("rechnung.txt", "Rechnung")
    with pytest.raises(ValidationError, match="exactly one list"):
        test_cases.test_cases_import(actor=lead, use_case=belege, data=buffer.getvalue(), name="x.zip")
