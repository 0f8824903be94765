"""The model choices inside one field, without the database: every candidate is measured by
cross-validation and the best one is kept; per-column features win where only the column tells; an
ensemble predicts and explains like a single model; artifacts written before ensembles still predict."""
import copy
import hashlib
import io
import random

import joblib
import numpy as np
import pytest

from automations.engines.classifier.artifact import READABLE_FORMATS, dump, load
from automations.engines.classifier.model import DEFAULT_PARAMETERS, fit_field, vectorise
from automations.engines.classifier.text import prepare
from automations.engines.classifier.training import predict, train, weighted_examples

WORDS = ["termin", "anfrage", "bestellung", "paket", "konto", "vertrag", "rechnung", "lieferung", "frage", "bitte"]


def parameters(**changes) -> dict:
    return {**copy.deepcopy(DEFAULT_PARAMETERS), "folds": 3, **changes}


def topic_rows(n: int, seed: int = 1) -> list[tuple[dict, dict]]:
    """Three topics told apart by their words, with shared filler and some label noise."""
    rng = random.Random(seed)
    topics = {"technik": ["drucker", "fehler", "startet", "update"], "rechnung": ["betrag", "gutschrift", "zahlung"],
              "lieferung": ["sendung", "spedition", "zugestellt"]}
    rows = []
    for _ in range(n):
        label = rng.choice(sorted(topics))
        words = rng.sample(topics[label], 2) + rng.sample(WORDS, 4)
        if rng.random() < 0.1:
            label = rng.choice(sorted(topics))
        rows.append(({"subject": " ".join(words[:2]), "body": " ".join(words[2:])}, {"queue": label}))
    return rows


def test_every_candidate_is_measured_and_the_best_is_kept():
    rows = topic_rows(150)
    texts = [prepare(t, ["subject", "body"]) for t, _ in rows]
    model = fit_field("queue", texts, [lab["queue"] for _t, lab in rows], parameters(), columns=["subject", "body"])

    scores = model.chosen["cv_macro_f1"]
    assert {"linear_svm C=0.1", "linear_svm C=0.3", "linear_svm C=1", "logistic_regression C=10", "ensemble",
            "ensemble [text+columns]", "logistic_regression C=10 [text+columns]"} <= set(scores)
    kept = model.chosen["model"], model.chosen["features"]
    tag = "" if kept[1] == "text" else " [text+columns]"
    best = scores[f"linear_svm C={model.chosen['c']:g}{tag}"] if kept[0] == "linear_svm" else \
        scores[f"logistic_regression C=10{tag}"] if kept[0] == "logistic_regression" else scores[f"ensemble{tag}"]
    assert best == max(scores.values())


def test_the_column_features_win_where_only_the_column_tells_the_classes_apart():
    """Both words occur in both classes; only whether a word stands in the subject or the body differs."""
    rng = random.Random(4)
    rows = []
    for i in range(120):
        label = "a" if i % 2 else "b"
        first, second = ("alpha", "beta") if label == "a" else ("beta", "alpha")
        rows.append(({"subject": f"{first} {rng.choice(WORDS)}", "body": f"{second} {rng.choice(WORDS)} {i}"},
                     {"category": label}))
    texts = [prepare(t, ["subject", "body"]) for t, _ in rows]
    labels = [lab["category"] for _t, lab in rows]

    model = fit_field("category", texts, labels, parameters(), columns=["subject", "body"])
    assert model.chosen["features"] == "text+columns"
    assert model.chosen["cv_macro_f1"]["linear_svm C=1 [text+columns]"] > 0.95 > model.chosen["cv_macro_f1"][
        "linear_svm C=1"]
    values, confidence, _X = model.predict([prepare({"subject": "alpha termin", "body": "beta paket"},
                                                    ["subject", "body"])])
    assert values == ["a"] and confidence[0] > 0.8


def test_an_empty_subject_adds_no_column_features_and_does_not_break_training():
    rows = [({"subject": "", "body": t["subject"] + " " + t["body"]}, lab) for t, lab in topic_rows(90)]
    texts = [prepare(t, ["subject", "body"]) for t, _ in rows]
    features, _X = vectorise(texts, parameters(), ["subject", "body"])
    assert [name for name, _v in features.transformer_list] == ["word", "char"]
    model = fit_field("queue", texts, [lab["queue"] for _t, lab in rows], parameters(), columns=["subject", "body"])
    assert model.chosen["features"] == "text" and not any("columns" in k for k in model.chosen["cv_macro_f1"])


def test_an_ensemble_predicts_calibrated_confidences_and_explains_with_words():
    rows = topic_rows(150, seed=2)
    texts = [prepare(t, ["subject", "body"]) for t, _ in rows]
    model = fit_field("queue", texts, [lab["queue"] for _t, lab in rows], parameters(), fixed={
        "features": "text", "model": "ensemble", "c": 0.3, "lr_c": 10.0})

    assert [m.kind for m in model.members] == ["linear_svm", "logistic_regression"]
    values, confidence, X = model.predict([prepare({"subject": "drucker fehler", "body": "bitte termin"},
                                                   ["subject", "body"]), "\n"])
    assert values[0] == "technik" and 0.5 < confidence[0] <= 1.0
    assert confidence[1] == 0.0  # no text, no confidence
    terms = [term for term, _weight in model.explain(X[0], "technik")]
    assert {"drucker", "fehler"} & set(terms) and "bitte" not in terms[:1]


def test_the_baseline_configuration_can_be_the_model():
    rows = topic_rows(120, seed=3)
    texts = [prepare(t, ["subject", "body"]) for t, _ in rows]
    model = fit_field("queue", texts, [lab["queue"] for _t, lab in rows],
                      parameters(candidates=["logistic_regression"]))
    assert model.chosen["model"] == "logistic_regression" and model.chosen["lr_c"] == 10.0 and not model.members
    probe = prepare({"subject": "betrag gutschrift", "body": ""}, ["subject", "body"])
    assert model.predict([probe])[0] == ["rechnung"]


def test_an_artifact_of_format_one_still_predicts():
    """Versions trained before ensembles and per-column features hold FieldModels without those
    attributes (one SVM on word and character n-grams); they still load and predict the same."""
    rows = [({"text": f"{t['subject']} {t['body']}"}, lab) for t, lab in topic_rows(90, seed=5)]
    bundle, _evaluation, _p = train(rows, text_columns=["text"], fields=["queue"],
                                    parameters=parameters(candidates=["linear_svm"]))
    new = [{"text": "drucker update fehler"}, {"text": "sendung zugestellt"}, {"text": ""}]
    expected = predict(bundle, new, explain=3)
    old = bundle["fields"]["queue"]
    del old.__dict__["members"], old.__dict__["width"]  # as unpickled from format 1
    buffer = io.BytesIO()
    joblib.dump({**bundle, "format_version": 1}, buffer, compress=3)
    raw = buffer.getvalue()

    assert 1 in READABLE_FORMATS
    loaded = load(raw, sha256=hashlib.sha256(raw).hexdigest(), format_version=1)
    assert predict(loaded, new, explain=3) == expected


def test_training_is_deterministic_with_every_candidate():
    rows = topic_rows(120, seed=6)
    first = train(rows, text_columns=["subject", "body"], fields=["queue"], parameters=parameters())
    second = train(rows, text_columns=["subject", "body"], fields=["queue"], parameters=parameters())
    strip = lambda e: {k: v for k, v in e["fields"]["queue"].items() if k != "seconds"}  # noqa: E731
    assert strip(first[1]) == strip(second[1])
    assert dump(first[0])[1] == dump(second[0])[1]
    a, b = first[0]["fields"]["queue"], second[0]["fields"]["queue"]
    probe = [prepare({"subject": "zahlung", "body": "frage"}, ["subject", "body"])]
    assert np.array_equal(a.predict(probe)[1], b.predict(probe)[1])


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_prepared_text_keeps_the_columns_apart(value):
    assert prepare({"subject": value, "body": "Rückgabe  bitte"}, ["subject", "body"]) == "\nrueckgabe bitte"


def test_a_clerks_correction_outweighs_more_frequent_imports():
    text = {"subject": "Login", "body": "Passwort vergessen"}
    rows = [(text, {"queue": "technik", "priority": "hoch"}), (text, {"queue": "technik"}),
            (text, {"queue": "konto"}, True), (text, {"queue": "technik", "priority": "hoch"})]
    [(_digest, (texts, labels, weights))] = weighted_examples(rows)
    assert texts == text and labels == {"queue": "konto", "priority": "hoch"}
    assert weights == {"queue": 1, "priority": 2}
