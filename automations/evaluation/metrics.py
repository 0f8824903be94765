"""The figures of an evaluation, from plain case outcomes, and the verdict against a use case's quality targets.
Pure functions over lists (no database), so that they are checked on constructed cases.

What the quality targets of a use case (UseCase.quality_targets) mean for an evaluation:
- `max_correction_rate`: the share of test cases in which at least one expected field is wrong or missing
  (or the release failed on the case): what a clerk would have had to correct.
- `min_automation_share`: the share of test cases that the release's thresholds would apply automatically.
- `min_precision` {field: share}: of the cases applied automatically, the share in which that field is right
  (the precision that reaches the target system unseen). No case applied automatically: nothing to measure.
"""
import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from sklearn.metrics import brier_score_loss, confusion_matrix, precision_recall_fscore_support

from automations.engines.classifier.evaluation import calibration_bands, expected_calibration_error

APPLIED = "applied"
NONE_LABEL = "—"  # a category field with no suggestion, in the confusion matrix

_SPACES = re.compile(r"\s+")


@dataclass
class CaseOutcome:
    """One test case as evaluated: expected {field: value}, predicted {field: (value, confidence)}, where
    routing would have sent it, and the error if the release failed on it."""

    expected: dict
    predicted: dict = field(default_factory=dict)
    outcome: str = ""
    error: str = ""


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip().replace(" ", ""))
    except (InvalidOperation, ValueError):
        return None


def _date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def values_equal(spec: dict | None, expected, predicted) -> bool:
    """Right or wrong, by the field's type: decimals by value ("300" equals "300.00"), dates as dates, IBANs
    without spaces and case, booleans by truth, everything else as text with whitespace collapsed. An expected
    empty value means the field must be absent."""
    if _empty(expected) or _empty(predicted):
        return _empty(expected) and _empty(predicted)
    kind = (spec or {}).get("type", "text")
    if kind in ("decimal", "integer"):
        a, b = _decimal(expected), _decimal(predicted)
        if a is not None and b is not None:
            return a == b
    if kind == "date":
        first, second = _date(expected), _date(predicted)
        if first is not None and second is not None:
            return first == second
    if kind == "iban":
        return str(expected).replace(" ", "").upper() == str(predicted).replace(" ", "").upper()
    if kind == "boolean" or isinstance(expected, bool):
        truth = {"true", "1", "yes", "ja", "wahr"}
        return (str(expected).strip().lower() in truth) == (str(predicted).strip().lower() in truth)
    return _SPACES.sub(" ", str(expected)).strip() == _SPACES.sub(" ", str(predicted)).strip()


def field_results(case: CaseOutcome, specs: dict[str, dict]) -> dict[str, bool]:
    """Per expected field: right?"""
    results = {}
    for name, expected in case.expected.items():
        predicted = case.predicted.get(name)
        value = predicted[0] if predicted is not None else None
        results[name] = not case.error and values_equal(specs.get(name), expected, value)
    return results


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def evaluate(cases: list[CaseOutcome], output_fields: list[dict]) -> dict:
    """Every figure of an evaluation (JSON-serialisable)."""
    specs = {f["name"]: f for f in output_fields if isinstance(f, dict) and isinstance(f.get("name"), str)}
    per_case = [field_results(case, specs) for case in cases]
    wrong = [not all(results.values()) or bool(case.error) for case, results in zip(cases, per_case)]
    applied = [case.outcome == APPLIED and not case.error for case in cases]
    n, n_applied = len(cases), sum(applied)
    names = [name for name in specs if any(name in case.expected for case in cases)]
    names += sorted({name for case in cases for name in case.expected} - set(names))

    fields, categories = {}, {}
    confidences, rights = [], []
    for name in names:
        rows = [(case, results[name], auto) for case, results, auto in zip(cases, per_case, applied)
                if name in case.expected]
        suggested = [(case, right, auto) for case, right, auto in rows if name in case.predicted]
        auto_rows = [right for _case, right, auto in rows if auto]
        fields[name] = {
            "n": len(rows), "suggested": len(suggested), "correct": sum(right for _c, right, _a in rows),
            "accuracy": _rate(sum(right for _c, right, _a in rows), len(rows)),
            "precision": _rate(sum(right for _c, right, _a in suggested), len(suggested)),
            "automatic": len(auto_rows), "automatic_precision": _rate(sum(auto_rows), len(auto_rows)),
        }
        for case, right, _auto in suggested:
            confidences.append(float(case.predicted[name][1] or 0.0))
            rights.append(bool(right))
        if (specs.get(name) or {}).get("type") == "category":
            categories[name] = _category_report(rows, specs.get(name) or {})

    calibration = {"bands": calibration_bands(confidences, rights), "n": len(confidences),
                   "ece": expected_calibration_error(confidences, rights) if confidences else None,
                   # Brier score: mean squared distance between confidence and being right (0 is perfect).
                   "brier": round(float(brier_score_loss(np.asarray(rights, dtype=int), np.asarray(confidences),
                                                         pos_label=1)), 4)
                   if confidences and len(set(rights)) > 1 else
                   (round(float(np.mean([(c - r) ** 2 for c, r in zip(confidences, rights)])), 4)
                    if confidences else None)}
    outcomes: dict[str, int] = {}
    for case in cases:
        key = "failed" if case.error else (case.outcome or "review")
        outcomes[key] = outcomes.get(key, 0) + 1
    automatic_errors = sum(1 for w, a in zip(wrong, applied) if w and a)
    return {
        "cases": n, "failed_runs": sum(1 for case in cases if case.error), "correct_cases": n - sum(wrong),
        "correction_rate": _rate(sum(wrong), n),
        "automation": {"applied": n_applied, "share": _rate(n_applied, n),
                       "errors": automatic_errors, "error_rate": _rate(automatic_errors, n_applied)},
        "outcomes": outcomes, "fields": fields, "categories": categories, "calibration": calibration,
    }


def _category_report(rows, spec: dict) -> dict:
    """Precision and recall per category and the confusion matrix (scikit-learn), a missing suggestion counted
    as the value "—"."""
    y_true = [str(case.expected[spec["name"]]) for case, _right, _auto in rows]
    y_pred = [str(case.predicted[spec["name"]][0]) if spec["name"] in case.predicted and not case.error
              else NONE_LABEL for case, _right, _auto in rows]
    labels = [c for c in spec.get("choices") or [] if c in set(y_true) | set(y_pred)]
    labels += sorted((set(y_true) | set(y_pred)) - set(labels) - {NONE_LABEL})
    if NONE_LABEL in y_pred:
        labels.append(NONE_LABEL)
    if not labels:
        return {"labels": [], "matrix": [], "per_class": {}}
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    return {"labels": labels, "matrix": matrix.tolist(),
            "per_class": {label: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                                  "f1": round(float(f1[i]), 4), "support": int(support[i])}
                          for i, label in enumerate(labels) if label != NONE_LABEL}}


def _pct(share) -> str:
    return number_format(round(float(share) * 100, 1), 1)


def verdict(metrics: dict, targets: dict, labels: dict | None = None) -> list[str]:
    """The quality targets an evaluation misses, as sentences naming the fields by `labels` ({name: label},
    else by name) (empty: it passes). An evaluation without test cases proves nothing and never passes."""
    labels = labels or {}
    misses = []
    n = metrics.get("cases") or 0
    if not n:
        return [_("The evaluation ran on no test case.")]
    targets = targets or {}
    rate, limit = metrics.get("correction_rate"), targets.get("max_correction_rate")
    if limit not in (None, "") and rate is not None and rate > float(limit):
        misses.append(_("Correction rate %(v)s %% is above the target of at most %(t)s %%.")
                      % {"v": _pct(rate), "t": _pct(limit)})
    share, floor = (metrics.get("automation") or {}).get("share"), targets.get("min_automation_share")
    if floor not in (None, "") and (share or 0) < float(floor):
        misses.append(_("Automatic share %(v)s %% is below the target of at least %(t)s %%.")
                      % {"v": _pct(share or 0), "t": _pct(floor)})
    for name, wanted in sorted((targets.get("min_precision") or {}).items()):
        figures = (metrics.get("fields") or {}).get(name)
        if figures is None:
            misses.append(_("No test case expects a value for %(f)s, which has a precision target.")
                          % {"f": labels.get(name, name)})
            continue
        precision = figures.get("automatic_precision")
        if precision is not None and precision < float(wanted):
            misses.append(_("Precision of %(f)s among the automatically applied cases is %(v)s %%, below the "
                            "target of %(t)s %%.") % {"f": labels.get(name, name), "v": _pct(precision),
                                                       "t": _pct(wanted)})
    return misses
