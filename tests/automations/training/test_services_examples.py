"""Importing labelled examples: what the person importing sees in the report, and what is stored."""
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.actors import SYSTEM
from automations.choices import ExampleSource
from automations.execution.services.intake import work_item_create
from automations.training.selectors import example_list
from automations.training.services import example_from_correction, examples_import
from tests.automations.factories import go_live, make_use_case

from .conftest import write_csv


def test_csv_import_adds_unseen_queues_to_a_draft_and_keeps_source_and_hash(tickets, lead, ticket_csv):
    report = examples_import(actor=lead, use_case=tickets, file=ticket_csv, name="tickets.csv",
                             text_columns="subject,body", label_columns="queue,priority")

    assert report.created == 240 and not report.bad
    assert set(report.added_choices["queue"]) == {"vertrieb", "reklamation", "lieferung", "konto"}
    tickets.refresh_from_db()
    assert set(tickets.output_field("queue")["choices"]) == {"technik", "rechnung", "vertrieb", "reklamation",
                                                            "lieferung", "konto"}
    example = example_list(use_case=tickets).first()
    assert example.source == ExampleSource.IMPORT and example.source_ref.startswith("tickets.csv:")
    assert len(example.content_hash) == 64 and set(example.texts) == {"subject", "body"}


def test_semicolon_csv_reports_bad_rows_with_their_line_numbers(tickets, lead, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text(
        "subject;body;queue\n"
        "Drucker;Der Drucker druckt nicht;technik\n"          # line 2
        ";;technik\n"                                          # line 3: no text
        "Rechnung;Betrag falsch;\n"                            # line 4: empty label
        "\"Mehrzeilig\";\"Erste Zeile\nzweite Zeile\";rechnung\n"  # lines 5-6
        "Passwort;Login geht nicht;konto\n",                   # line 7
        encoding="utf-8")
    report = examples_import(actor=lead, use_case=tickets, file=path, name="excel.csv",
                             text_columns=["subject", "body"], label_columns=["queue"])

    assert report.created == 3
    assert [line for line, _reason in report.bad] == [3, 4]
    assert "no text" in report.bad[0][1] and "empty label" in report.bad[1][1]
    assert report.added_choices == {"queue": ["konto"]}
    assert example_list(use_case=tickets).last().source_ref == "excel.csv:7"


def test_json_lines_with_a_malformed_line_never_crash(tickets, lead, tmp_path):
    path = tmp_path / "examples.jsonl"
    lines = [json.dumps({"subject": "Störung", "body": "Gerät startet nicht", "queue": "technik"}),
             '{"subject": "kaputt", "body": ',
             json.dumps(["not", "an", "object"]),
             json.dumps({"subject": "Gutschrift", "body": "fehlt noch", "queue": "rechnung", "priority": "hoch"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = examples_import(actor=lead, use_case=tickets, file=path, text_columns="subject,body",
                             label_columns="queue,priority")

    assert report.created == 2
    assert [line for line, _reason in report.bad] == [2, 3]
    assert "malformed JSON" in report.bad[0][1]
    assert report.missing_labels == {"priority": 1}


def test_duplicates_and_conflicting_labels_are_reported(tickets, lead, tmp_path):
    rows = [{"subject": "Login", "body": "Passwort vergessen", "queue": "technik"},
            {"subject": "Login", "body": "Passwort   vergessen", "queue": "technik"},  # same text, spacing aside
            {"subject": "Login", "body": "Passwort vergessen", "queue": "rechnung"},
            {"subject": "Drucker", "body": "Papierstau", "queue": "technik"}]
    first = examples_import(actor=lead, use_case=tickets, file=write_csv(tmp_path / "a.csv", rows),
                            text_columns="subject,body", label_columns="queue")
    assert first.created == 4 and first.duplicates == []
    assert first.repeated == [(3, "same text and labels as line 2: kept, it counts as often as it occurs")]
    assert first.conflicts[0][0] == 4 and "other labels" in first.conflicts[0][1]

    again = examples_import(actor=lead, use_case=tickets, file=write_csv(tmp_path / "a.csv", rows[-1:]),
                            text_columns="subject,body", label_columns="queue")
    assert again.created == 0 and again.duplicates == [(2, "same text and labels as an existing example")]


def test_label_columns_must_be_output_fields_and_columns_must_exist(tickets, lead, ticket_csv):
    with pytest.raises(ValidationError, match="unknown: department"):
        examples_import(actor=lead, use_case=tickets, file=ticket_csv, text_columns="body", label_columns="department")
    with pytest.raises(ValidationError, match="not in the file: text"):
        examples_import(actor=lead, use_case=tickets, file=ticket_csv, text_columns="text", label_columns="queue")


def test_only_the_core_team_imports(tickets, team, ticket_csv):
    with pytest.raises(PermissionDenied):
        examples_import(actor=team["clerk"], use_case=tickets, file=ticket_csv, text_columns="body",
                        label_columns="queue")


def test_in_production_new_values_wait_for_a_change_request(tenant, team, tmp_path):
    use_case = make_use_case(tenant, team["automation_lead"], key="live")
    go_live(use_case, team)
    path = write_csv(tmp_path / "x.csv", [{"text": "Lieferschein 4711", "category": "delivery_note"}])
    report = examples_import(actor=team["automation_lead"], use_case=use_case, file=path, text_columns="text",
                             label_columns="category")

    assert report.created == 1 and report.added_choices == {}
    assert report.pending_choices == {"category": ["delivery_note"]}
    assert "change request" in report.warnings[0]
    use_case.refresh_from_db()
    assert use_case.output_field("category")["choices"] == ["a", "b"]


def test_a_clerks_correction_becomes_an_example_only_where_reuse_is_allowed(tenant, team):
    lead = team["automation_lead"]
    allowed = make_use_case(tenant, lead, key="allowed", training_reuse_allowed=True)
    denied = make_use_case(tenant, lead, key="denied")
    go_live(allowed, team)
    go_live(denied, team)
    item, _ = work_item_create(actor=SYSTEM, tenant=tenant, use_case_key="allowed", payload={"text": "Gutschrift 12"})
    other, _ = work_item_create(actor=SYSTEM, tenant=tenant, use_case_key="denied", payload={"text": "Gutschrift 12"})

    example = example_from_correction(item=item, final_fields={"category": {"value": "b", "decided_by": "clerk"}},
                                      actor=SYSTEM)
    assert example.source == ExampleSource.CORRECTION and example.labels == {"category": "b"}
    assert example.texts == {"text": "Gutschrift 12"} and example.item == item
    assert example_from_correction(item=item, final_fields={"category": "b"}, actor=SYSTEM) == example  # not twice
    assert example_from_correction(item=other, final_fields={"category": "b"}, actor=SYSTEM) is None


def test_a_repeated_text_counts_as_often_as_it_occurs_with_its_most_frequent_label(tickets, lead):
    from automations.training.services import _training_set

    rows = [{"subject": "Login", "body": "Passwort vergessen", "queue": "konto"}] * 3 + [
        {"subject": "Drucker", "body": "Papierstau", "queue": "technik"},
        {"subject": "Drucker", "body": "Papierstau", "queue": "rechnung"},  # as frequent: the newer counts
        {"subject": "Login", "body": "Passwort vergessen", "queue": "technik"},  # outvoted by three
        {"subject": "Rechnung", "body": "doppelt", "queue": "rechnung"}]
    report = examples_import(actor=lead, use_case=tickets, rows_iter=rows, text_columns="subject,body",
                             label_columns="queue")
    assert report.created == 7 and [line for line, _r in report.repeated] == [2, 3] and len(report.conflicts) == 2

    examples, columns, data_hash, count = _training_set(tickets)
    weights = {texts["subject"]: (labels["queue"], w["queue"]) for texts, labels, w in examples}
    assert weights == {"Login": ("konto", 3), "Drucker": ("rechnung", 1), "Rechnung": ("rechnung", 1)}
    assert count == 3 and columns == ["subject", "body"]

    again = examples_import(actor=lead, use_case=tickets, rows_iter=rows, text_columns="subject,body",
                            label_columns="queue")  # the same file again changes nothing
    assert again.created == 0 and len(again.duplicates) == 7
    assert _training_set(tickets)[2] == data_hash
