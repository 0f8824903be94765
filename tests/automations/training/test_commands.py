"""import_examples -> train_classifier -> predict, exactly as DESIGN.md's contracts describe them."""
import io
import json

import pytest
from django.core.management import CommandError, call_command

from automations.engines import EngineInput, get_engine
from automations.models import ClassifierVersion

from .conftest import demo_rows, quick_parameters, write_csv


def run(*args, **options) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue().strip().splitlines()


def test_import_train_predict_end_to_end(tickets, tmp_path):
    rows = demo_rows("service_tickets.csv", 200)
    train_csv = write_csv(tmp_path / "train.csv", rows[:160], delimiter=";")
    test_csv = write_csv(tmp_path / "test.csv", [{"subject": r["subject"], "body": r["body"]} for r in rows[160:]])

    imported = run("import_examples", "tickets", str(train_csv), text_columns="subject,body",
                   label_columns="queue,priority")
    assert "160 examples imported" in imported[0]
    assert any(line.startswith("Added choices to queue:") for line in imported)

    trained = run("train_classifier", "tickets")  # the only tenant: --tenant may be left out
    version = ClassifierVersion.objects.get(pk=int(trained[-1]))
    assert version.use_case == tickets and any("macro-F1" in line for line in trained)

    out = tmp_path / "out.jsonl"
    run("predict", "tickets", str(test_csv), classifier_version=version.pk, output=str(out), tenant="muster")
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 40
    for line in lines:
        assert set(line["fields"]) == {"queue", "priority"}
        assert line["fields"]["queue"]["value"] in version.evaluation["fields"]["queue"]["classes"]
        assert 0.0 <= line["fields"]["queue"]["confidence"] <= 1.0
    right = sum(line["fields"]["queue"]["value"] == r["queue"] for line, r in zip(lines, rows[160:]))
    assert right >= 28  # in order: the n-th line answers the n-th row


def test_predict_keeps_one_line_per_row_for_unreadable_json_and_refuses_other_use_cases(tickets, lead, tmp_path):
    from automations.training.services import classifier_train, examples_import

    examples_import(actor=lead, use_case=tickets, rows_iter=demo_rows("service_tickets.csv", 80),
                    text_columns="subject,body", label_columns="queue")
    version = classifier_train(actor=lead, use_case=tickets, parameters=quick_parameters())
    src = tmp_path / "in.jsonl"
    src.write_text('{"subject": "Rechnung doppelt", "body": "bitte korrigieren"}\n{"subject": \n{"body": ""}\n',
                   encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run("predict", "tickets", str(src), classifier_version=version.pk, output=str(out), text_columns="subject,body")
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3 and lines[1]["fields"] == {} and lines[1]["line"] == 2
    assert lines[2]["fields"]["queue"]["confidence"] == 0.0  # no text: no confidence, no error

    with pytest.raises(CommandError, match="No use case"):
        run("predict", "elsewhere", str(src), classifier_version=version.pk, output=str(out))
    with pytest.raises(CommandError, match="unknown: department"):
        run("import_examples", "tickets", str(src), text_columns="body", label_columns="department")


def test_the_pipeline_engine_explains_with_terms_and_is_humble_about_empty_text(tickets, lead, tenant):
    from automations.execution.services.engine_services import EngineServicesForItem
    from automations.training.services import classifier_train, examples_import

    examples_import(actor=lead, use_case=tickets, rows_iter=demo_rows("service_tickets.csv", 240),
                    text_columns="subject,body", label_columns="queue,priority")
    version = classifier_train(actor=lead, use_case=tickets, parameters=quick_parameters())
    engine = get_engine("classifier")

    def suggest(payload):
        item = EngineInput(tenant_id=tenant.pk, use_case_key="tickets", payload=payload, files=[],
                           output_fields=tickets.output_fields, services=EngineServicesForItem(use_case=tickets))
        return engine.suggest(item, parameters={"fields": ["queue"]}, artifact_ref=str(version.pk))

    result = suggest({"subject": "Passwort vergessen", "body": "Mein Zugang ist gesperrt, Login geht nicht."})
    [queue] = result.suggestions
    assert queue.field == "queue" and queue.value == "konto" and queue.engine == "classifier"
    assert "passwort" in queue.explanation or "zugang" in queue.explanation or "login" in queue.explanation

    empty = suggest({"subject": "", "body": ""})
    assert empty.suggestions[0].confidence == 0.0 and empty.reasons
    gibberish = suggest({"subject": "qqq", "body": "zzxq vvv"})
    assert gibberish.suggestions[0].confidence < 0.6
