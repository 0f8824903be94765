"""The figures of an evaluation on constructed cases: calibration per confidence band, per-field accuracy and
precision, precision and recall per category with the confusion matrix, the automatic share and its error rate,
and the verdict against quality targets."""
import pytest

from automations.evaluation.metrics import CaseOutcome, evaluate, values_equal, verdict

SPECS = [{"name": "document_class", "type": "category", "choices": ["invoice", "reminder", "other"]},
         {"name": "gross_total", "type": "decimal"}]


def _case(expected_class, predicted_class, confidence, outcome="review"):
    return CaseOutcome(expected={"document_class": expected_class},
                       predicted={"document_class": (predicted_class, confidence)}, outcome=outcome)


def test_a_ninety_percent_confidence_right_nine_times_in_ten_is_calibrated():
    # Ten suggestions at 0.9 of which nine are right; ten at 0.6 of which three are right.
    cases = ([_case("invoice", "invoice", 0.9)] * 9 + [_case("invoice", "reminder", 0.9)]
             + [_case("reminder", "reminder", 0.6)] * 3 + [_case("reminder", "other", 0.6)] * 7)
    calibration = evaluate(cases, SPECS)["calibration"]
    bands = {band["band"]: band for band in calibration["bands"]}
    assert bands["0.90–0.95"] == {"band": "0.90–0.95", "low": 0.9, "high": 0.95, "count": 10,
                                  "mean_confidence": 0.9, "accuracy": 0.9}
    assert bands["0.60–0.70"]["count"] == 10 and bands["0.60–0.70"]["accuracy"] == 0.3
    assert bands["0.70–0.80"]["count"] == 0 and bands["0.70–0.80"]["accuracy"] is None
    # Expected calibration error: (10·|0.9−0.9| + 10·|0.6−0.3|) / 20 = 0.15.
    assert calibration["ece"] == 0.15
    # Brier score: (9·0.01 + 1·0.81 + 3·0.16 + 7·0.36) / 20 = 0.195.
    assert calibration["brier"] == pytest.approx(0.195)
    assert calibration["n"] == 20


def test_a_confidence_of_exactly_one_counts_in_the_top_band():
    bands = evaluate([_case("invoice", "invoice", 1.0)], SPECS)["calibration"]["bands"]
    assert bands[-1]["band"] == "0.95–1.00" and bands[-1]["count"] == 1 and bands[-1]["accuracy"] == 1.0


def test_fields_categories_confusion_and_automatic_share():
    cases = [
        CaseOutcome({"document_class": "invoice", "gross_total": "119.00"},
                    {"document_class": ("invoice", 0.97), "gross_total": ("119", 0.99)}, "applied"),
        CaseOutcome({"document_class": "invoice", "gross_total": "50.00"},
                    {"document_class": ("invoice", 0.96), "gross_total": ("51.00", 0.98)}, "applied"),
        CaseOutcome({"document_class": "reminder"}, {"document_class": ("invoice", 0.7)}, "review"),
        CaseOutcome({"document_class": "other"}, {}, "clarification"),
        CaseOutcome({"document_class": "reminder"}, {}, "failed", error="extract: provider down"),
    ]
    metrics = evaluate(cases, SPECS)
    assert metrics["cases"] == 5 and metrics["correct_cases"] == 1 and metrics["failed_runs"] == 1
    assert metrics["correction_rate"] == 0.8
    assert metrics["automation"] == {"applied": 2, "share": 0.4, "errors": 1, "error_rate": 0.5}
    assert metrics["outcomes"] == {"applied": 2, "review": 1, "clarification": 1, "failed": 1}
    document_class = metrics["fields"]["document_class"]
    assert (document_class["n"], document_class["suggested"], document_class["correct"]) == (5, 3, 2)
    assert document_class["accuracy"] == 0.4 and document_class["precision"] == 0.6667
    assert document_class["automatic_precision"] == 1.0
    assert metrics["fields"]["gross_total"]["accuracy"] == 0.5  # "119" equals "119.00"; 51 is not 50
    assert metrics["fields"]["gross_total"]["automatic_precision"] == 0.5
    report = metrics["categories"]["document_class"]
    assert report["labels"] == ["invoice", "reminder", "other", "—"]
    # rows: expected, columns: suggested ("—": none, the failed run included)
    assert report["matrix"] == [[2, 0, 0, 0], [1, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert report["per_class"]["invoice"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2}
    assert report["per_class"]["reminder"]["recall"] == 0.0
    assert "—" not in report["per_class"]


def test_the_verdict_names_every_missed_target():
    cases = [CaseOutcome({"gross_total": "10"}, {"gross_total": ("10", 0.99)}, "applied"),
             CaseOutcome({"gross_total": "10"}, {"gross_total": ("11", 0.99)}, "applied"),
             CaseOutcome({"gross_total": "10"}, {"gross_total": ("10", 0.5)}, "review"),
             CaseOutcome({"gross_total": "10"}, {"gross_total": ("10", 0.5)}, "review")]
    metrics = evaluate(cases, SPECS)
    assert verdict(metrics, {}) == []
    assert verdict(metrics, {"max_correction_rate": 0.25, "min_automation_share": 0.5,
                             "min_precision": {"gross_total": 0.5}}) == []
    misses = verdict(metrics, {"max_correction_rate": 0.1, "min_automation_share": 0.6,
                               "min_precision": {"gross_total": 0.99, "document_class": 0.9}})
    assert len(misses) == 4
    assert misses[0].startswith("Correction rate 25.0 %")
    assert "Automatic share 50.0 %" in misses[1]
    assert "document_class" in misses[2] and "gross_total" in misses[3]
    assert verdict(evaluate([], SPECS), {}) == ["The evaluation ran on no test case."]


@pytest.mark.parametrize("spec,expected,predicted,equal", [
    ({"type": "decimal"}, "300", "300.00", True),
    ({"type": "decimal"}, "300", "300.01", False),
    ({"type": "date"}, "2025-10-14", "2025-10-14T00:00:00", True),
    ({"type": "iban"}, "DE89 3704 0044 0532 0130 00", "de89370400440532013000", True),
    ({"type": "text"}, "Muster  GmbH", "Muster GmbH", True),
    ({"type": "text"}, "Muster GmbH", "MUSTER GMBH", False),
    ({"type": "boolean"}, True, "ja", True),
    ({"type": "text"}, "", None, True),
    ({"type": "text"}, "", "x", False),
])
def test_values_compare_by_the_fields_type(spec, expected, predicted, equal):
    assert values_equal(spec, expected, predicted) is equal
