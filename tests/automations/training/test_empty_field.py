"""A news set imported as service tickets: the department becomes the queue, the priority is empty in every
row. The priority is simply not trained; import, training, thresholds and prediction work for the queue."""
import io
import json

import pytest
from django.core.management import call_command

from automations.training.services import classifier_train, examples_import, threshold_set_propose

from .conftest import quick_parameters, write_csv

pytestmark = pytest.mark.django_db

NEWS = {
    "Sport": "Der Verein gewann das Spiel in der Nachspielzeit, der Trainer lobte die Mannschaft und die Fans.",
    "Wirtschaft": "Die Bank senkte den Zins, der Konzern meldete Umsatz und Gewinn über den Erwartungen der Börse.",
    "Kultur": "Das Theater zeigte die Premiere, das Publikum feierte Regie, Bühnenbild und das Ensemble lange.",
}


def news_rows(count: int) -> list[dict]:
    rows = []
    for i in range(count):
        department = sorted(NEWS)[i % 3]
        words = NEWS[department].split()
        rows.append({"subject": "", "body": " ".join(words[i % 5:] + words[:i % 5]) + f" Meldung {i}.",
                     "queue": department, "priority": ""})
    return rows


def test_a_set_without_priorities_trains_and_predicts_the_queue_only(tickets, lead, tmp_path):
    path = write_csv(tmp_path / "news.csv", news_rows(60))
    report = examples_import(actor=lead, use_case=tickets, file=path, name="news.csv", text_columns="subject,body",
                             label_columns="queue,priority")
    assert report.created == 60 and not report.bad
    assert report.missing_labels == {"priority": 60}
    assert set(report.added_choices["queue"]) == set(NEWS)

    version = classifier_train(actor=lead, use_case=tickets, parameters=quick_parameters())
    assert version.fields == ["queue"]
    assert set(version.evaluation["fields"]) == {"queue"}
    assert "priority" in version.evaluation["skipped"]
    assert set(threshold_set_propose(actor=lead, classifier_version=version).thresholds) >= {"queue"}

    test = write_csv(tmp_path / "test.csv", [{"subject": "", "body": NEWS["Kultur"]},
                                             {"subject": "", "body": NEWS["Sport"]}, {"subject": "", "body": ""}])
    out = tmp_path / "pred.jsonl"
    call_command("predict", "tickets", str(test), classifier_version=version.pk, output=str(out),
                 stdout=io.StringIO())
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [set(line["fields"]) for line in lines] == [{"queue"}] * 3
    assert [line["fields"]["queue"]["value"] for line in lines[:2]] == ["Kultur", "Sport"]
    assert lines[2]["fields"]["queue"]["confidence"] == 0.0


def test_the_training_command_says_which_field_was_not_trained(tickets, lead, tmp_path):
    examples_import(actor=lead, use_case=tickets, rows_iter=news_rows(45), text_columns="subject,body",
                    label_columns="queue,priority")
    out = io.StringIO()
    call_command("train_classifier", "tickets", "--quiet-progress", stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert any(line.startswith("priority: not trained") for line in lines)
    assert lines[-1].isdigit()
