"""Held-out evaluation: the figures a core team needs to decide whether a classifier may apply anything
automatically. Everything here works on plain lists and arrays, so it is easy to test on constructed
cases."""
import itertools
import math

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import train_test_split

BANDS = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0]
CURVE_THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99]
MAX_STORED_POINTS = 5000


def holdout_split(labels: list[str], *, test_size: float, seed: int) -> tuple[list[int], list[int]]:
    """A fixed stratified split. Classes with a single example stay in training (they cannot be both
    learnt and tested); when the test part would be smaller than the number of classes, it is drawn
    without stratification."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    singles = [i for i, label in enumerate(labels) if counts[label] < 2]
    rest = [i for i, label in enumerate(labels) if counts[label] >= 2]
    if len(rest) < 4:
        return list(range(len(labels))), []
    rest_labels = [labels[i] for i in rest]
    n_test = max(1, round(len(rest) * test_size))
    stratify = rest_labels if n_test >= len(set(rest_labels)) and len(rest) - n_test >= len(set(rest_labels)) else None
    train, test = train_test_split(rest, test_size=n_test, random_state=seed, stratify=stratify)
    return sorted(train + singles), sorted(test)


def wilson_lower(successes: int, n: int, z: float = 1.96) -> float:
    """Lower end of the 95 % Wilson interval: how low the true precision could plausibly be."""
    if n == 0:
        return 0.0
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z * z / n))


def _ceil4(x: float) -> float:
    return math.ceil(round(x * 10_000, 6)) / 10_000


def automation_at_precision(confidences, correct, target: float) -> dict:
    """The lowest threshold t such that the suggestions with confidence >= t are right at least `target`
    of the time, and the share of items that would then be applied automatically. No threshold reaches
    the target -> threshold None, share 0 (everything goes to a person)."""
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    n = len(conf)
    result = {"target_precision": target, "threshold": None, "share": 0.0, "precision": None, "applied": 0,
              "n": n, "precision_lower_bound": None}
    if n == 0:
        return result
    for t in sorted({_ceil4(c) for c in conf}):
        chosen = conf >= t
        count = int(chosen.sum())
        if count == 0:
            continue
        precision = float(ok[chosen].mean())
        if precision >= target:
            hits = int(ok[chosen].sum())
            result.update(threshold=t, share=round(count / n, 4), precision=round(precision, 4), applied=count,
                          precision_lower_bound=round(wilson_lower(hits, count), 4))
            return result
    return result


def calibration_bands(confidences, correct) -> list[dict]:
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    bands = []
    for low, high in itertools.pairwise(BANDS):
        inside = (conf >= low) & ((conf < high) if high < 1.0 else (conf <= high))
        count = int(inside.sum())
        bands.append({"band": f"{low:.2f}–{high:.2f}", "low": low, "high": high, "count": count,
                      "mean_confidence": round(float(conf[inside].mean()), 4) if count else None,
                      "accuracy": round(float(ok[inside].mean()), 4) if count else None})
    return bands


def expected_calibration_error(confidences, correct) -> float:
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if len(conf) == 0:
        return 0.0
    total = 0.0
    for band in calibration_bands(conf, ok):
        if band["count"]:
            total += band["count"] * abs(band["mean_confidence"] - band["accuracy"])
    return round(total / len(conf), 4)


def precision_curve(confidences, correct) -> list[dict]:
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    curve = []
    for t in CURVE_THRESHOLDS:
        chosen = conf >= t
        count = int(chosen.sum())
        curve.append({"threshold": t, "share": round(count / len(conf), 4) if len(conf) else 0.0,
                      "precision": round(float(ok[chosen].mean()), 4) if count else None})
    return curve


def field_report(y_true: list[str], y_pred: list[str], confidences, *, classes: list[str], target: float) -> dict:
    correct = [a == b for a, b in zip(y_true, y_pred)]
    labels = sorted(set(classes) | set(y_true) | set(y_pred))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                                     zero_division=0)
    present = [i for i, label in enumerate(labels) if support[i] > 0]
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    points = sorted(zip((round(float(c), 4) for c in confidences), (int(x) for x in correct)), reverse=True)
    return {
        "n": len(y_true),
        "accuracy": round(float(np.mean(correct)), 4) if correct else None,
        # Macro-F1 over the classes present in the held-out part (as scikit-learn's f1_score does).
        "macro_f1": round(float(np.mean([f1[i] for i in present])), 4) if present else None,
        "per_class": {labels[i]: {"precision": round(float(precision[i]), 4), "recall": round(float(recall[i]), 4),
                                  "f1": round(float(f1[i]), 4), "support": int(support[i])}
                      for i in range(len(labels))},
        "confusion": {"labels": labels, "matrix": matrix.tolist()},
        "calibration": calibration_bands(confidences, correct),
        "ece": expected_calibration_error(confidences, correct),
        "automation": automation_at_precision(confidences, correct, target),
        "curve": precision_curve(confidences, correct),
        # (confidence, right?) per held-out item, for proposing thresholds at other targets later.
        "points": [list(p) for p in points[:MAX_STORED_POINTS]],
    }
