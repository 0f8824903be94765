"""Training, evaluation, artifacts and thresholds, as the core team meets them."""
import copy
import pickle
import random

import joblib
import pytest
from django.core.exceptions import ValidationError

from automations.engines.classifier.artifact import ArtifactError
from automations.engines.classifier.evaluation import automation_at_precision, calibration_bands
from automations.engines.classifier.training import predict
from automations.models import ClassifierVersion, ThresholdSetVersion
from automations.training.services import classifier_load, classifier_train, examples_import, threshold_set_propose
from tests.automations.factories import make_use_case

from .conftest import quick_parameters


def _without_timings(evaluation: dict) -> dict:
    evaluation = copy.deepcopy(evaluation)
    for field in evaluation["fields"].values():
        field.pop("seconds", None)
    return evaluation


@pytest.fixture
def trained(tickets, lead, ticket_csv):
    examples_import(actor=lead, use_case=tickets, file=ticket_csv, text_columns="subject,body",
                    label_columns="queue,priority")
    return classifier_train(actor=lead, use_case=tickets, parameters=quick_parameters())


def test_a_version_records_how_it_was_made_and_how_well_it_does(trained, tickets):
    assert trained.number == 1 and trained.fields == ["queue", "priority"]
    assert trained.text_columns == ["subject", "body"] and trained.example_count == 240
    assert trained.library_versions["scikit-learn"] and len(trained.training_data_hash) == 64
    assert trained.artifact.name.startswith("classifiers/") and len(trained.artifact_sha256) == 64
    queue = trained.evaluation["fields"]["queue"]
    assert queue["n"] == 48 and queue["macro_f1"] > 0.6
    assert queue["confusion"]["labels"] == sorted(tickets.output_field("queue")["choices"]) or queue["confusion"]
    assert sum(band["count"] for band in queue["calibration"]) == 48
    assert queue["automation"]["target_precision"] == 0.9  # the use case's own target
    assert trained.evaluation["fields"]["priority"]["automation"]["target_precision"] == 0.95  # the default


def test_same_data_gives_the_same_model_evaluation_and_predictions(trained, tickets, lead):
    again = classifier_train(actor=lead, use_case=tickets, parameters=quick_parameters())

    assert again.number == 2 and again.training_data_hash == trained.training_data_hash
    assert _without_timings(again.evaluation) == _without_timings(trained.evaluation)
    assert again.artifact_sha256 == trained.artifact_sha256
    rows = [{"subject": "Drucker kaputt", "body": "Fehlermeldung E47, bitte dringend helfen"},
            {"subject": "", "body": "Wo bleibt unsere Lieferung?"}]
    assert predict(classifier_load(version=again), rows) == predict(classifier_load(version=trained), rows)


def test_the_artifact_is_refused_when_its_format_or_bytes_differ(trained):
    ClassifierVersion.objects.filter(pk=trained.pk).update(format_version=99)
    trained.refresh_from_db()
    with pytest.raises(ArtifactError, match="format 99"):
        classifier_load(version=trained)

    ClassifierVersion.objects.filter(pk=trained.pk).update(format_version=2)
    trained.refresh_from_db()
    with open(trained.artifact.path, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ArtifactError, match="altered"):
        classifier_load(version=trained)


def test_the_artifact_holds_no_email_iban_phone_or_long_number(tenant, lead, tmp_path):
    use_case = make_use_case(tenant, lead, key="belege", input_fields=[{"name": "text", "type": "long_text"}])
    secrets = ["erika.mustermann@example.org", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000",
               "+49 (0)89 1234567", "0171/9876543", "4711081512", "98765"]
    rng = random.Random(3)
    rows = []
    for i in range(60):
        secret = secrets[i % len(secrets)]
        label = "a" if i % 2 else "b"
        word = "Rechnung" if label == "a" else "Lieferschein"
        rows.append({"text": f"{word} {rng.randint(1, 9)} Kontakt {secret} Kunde {i}", "category": label})
    examples_import(actor=lead, use_case=use_case, rows_iter=rows, text_columns="text", label_columns="category")
    version = classifier_train(actor=lead, use_case=use_case)

    bundle = classifier_load(version=version)
    raw = pickle.dumps(bundle) + open(version.artifact.path, "rb").read()
    for secret in secrets + ["erika", "mustermann", "1234567", "9876543", "0532", "4711"]:
        assert secret.encode() not in raw and secret.lower().encode() not in raw, secret
    for vectorizer in (t for _n, t in bundle["fields"]["category"].features.transformer_list):
        assert getattr(vectorizer, "stop_words_", None) is None
    assert joblib.load(version.artifact.path)["format_version"] == 2


def test_calibration_on_a_constructed_case_matches_how_often_it_is_right(tenant, lead):
    """The word says "a" or "b", but only 80 % of the labels agree: a calibrated model says about 0.8,
    neither 0.5 nor 1.0, and is right about as often as it says."""
    use_case = make_use_case(tenant, lead, key="noisy")
    rng = random.Random(5)
    rows = []
    for i in range(400):
        word = rng.choice(["alpha", "beta"])
        truth = "a" if word == "alpha" else "b"
        label = truth if rng.random() < 0.8 else ("b" if truth == "a" else "a")
        rows.append({"text": f"Vorgang {word} Akte {i}", "category": label})
    examples_import(actor=lead, use_case=use_case, rows_iter=rows, text_columns="text",
                    label_columns="category")
    evaluation = classifier_train(actor=lead, use_case=use_case).evaluation["fields"]["category"]

    points = evaluation["points"]
    mean_confidence = sum(p[0] for p in points) / len(points)
    accuracy = sum(p[1] for p in points) / len(points)
    assert 0.68 <= mean_confidence <= 0.9
    assert abs(mean_confidence - accuracy) < 0.08
    assert evaluation["ece"] < 0.1
    # With 80 % agreement, 95 % precision is out of reach: nothing may be applied automatically.
    assert evaluation["automation"]["share"] < 0.1


def test_calibration_bands_count_mean_and_accuracy():
    bands = {b["band"]: b for b in calibration_bands([0.55, 0.58, 0.92, 0.97, 0.99], [True, False, True, True, False])}
    assert bands["0.50–0.60"] == {"band": "0.50–0.60", "low": 0.5, "high": 0.6, "count": 2, "mean_confidence": 0.565,
                                  "accuracy": 0.5}
    assert bands["0.95–1.00"]["count"] == 2 and bands["0.95–1.00"]["accuracy"] == 0.5
    assert bands["0.00–0.50"]["count"] == 0 and bands["0.00–0.50"]["accuracy"] is None


def test_automation_share_at_target_precision_on_a_constructed_case():
    confidence = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]
    right = [True, True, True, False, True, False]

    strict = automation_at_precision(confidence, right, 0.95)
    assert strict["threshold"] == 0.9 and strict["share"] == 0.5 and strict["precision"] == 1.0
    lenient = automation_at_precision(confidence, right, 0.75)
    assert lenient["threshold"] == 0.7 and lenient["share"] == round(5 / 6, 4) and lenient["precision"] == 0.8
    never = automation_at_precision([0.9, 0.8], [False, False], 0.5)
    assert never["threshold"] is None and never["share"] == 0.0


def test_separable_examples_can_mostly_be_applied_automatically(tenant, lead):
    use_case = make_use_case(tenant, lead, key="clean")
    rows = [{"text": f"{'Rechnung Betrag zahlbar' if i % 2 else 'Lieferschein Menge Paket'} {i}",
             "category": "a" if i % 2 else "b"} for i in range(120)]
    examples_import(actor=lead, use_case=use_case, rows_iter=rows, text_columns="text", label_columns="category")
    automation = classifier_train(actor=lead, use_case=use_case).evaluation["fields"]["category"]["automation"]
    assert automation["share"] >= 0.9 and automation["precision"] >= 0.95


def test_proposed_thresholds_meet_the_target_on_the_evaluation(trained, tickets, lead):
    proposal = threshold_set_propose(actor=lead, classifier_version=trained)

    assert isinstance(proposal, ThresholdSetVersion) and not proposal.is_frozen
    assert set(proposal.thresholds) == {"queue", "priority"}
    for field, target in (("queue", 0.9), ("priority", 0.95)):
        auto = proposal.thresholds[field]["auto"]
        points = trained.evaluation["fields"][field]["points"]
        applied = [right for confidence, right in points if confidence >= auto]
        assert auto == 1.0 or sum(applied) / len(applied) >= target
        assert 0 <= proposal.thresholds[field]["reject"] <= auto
    assert "classifier v1" in proposal.change_note


def test_training_needs_examples(tickets, lead):
    with pytest.raises(ValidationError, match="no labelled examples"):
        classifier_train(actor=lead, use_case=tickets)
