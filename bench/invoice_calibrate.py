"""Fit the text reader's confidence calibration (automations/engines/invoice/calibration.json) from the
values bench/invoice_accuracy.py recorded (`--records`), on development sets only.

  PORTAL_ENV=test .venv/bin/python bench/invoice_accuracy.py --set dev-cal --set dev-mix --set dev-fpdf --set final \
      --count 90 --records REC.jsonl
  PORTAL_ENV=test .venv/bin/python bench/invoice_calibrate.py REC.jsonl [REC2.jsonl ...] \
      [--sets dev-cal,dev-mix,dev-fpdf,final] [--dry-run]

First the table: per source (text layer, OCR) and kind of evidence, (right + w × prior) / (given + w), the
prior being the hand-set confidence of that kind (text.CONF, for OCR the lower of CONF and CONF_OCR) and w
the prior's weight in values; per field within a kind the same, shrunk towards the kind's figure; at most
`cap`. Then the cue model (calibration.with_cues): a logistic regression (scikit-learn, L2) over the
table's figure as log-odds, the source and the page's cues per family of fields, and an isotonic map
fitted on its predictions made by five-fold cross-validation grouped by invoice (so the map learns how
the model errs on invoices it was not fitted on). The cross-validated calibration per band is printed.
Records of the held-out sets are refused: a calibration fitted on them would say nothing about them."""
import argparse
import datetime as dt
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_ENV", "test")

import django  # noqa: E402

django.setup()

from automations.engines.invoice.calibration import ARTEFACT, model_features  # noqa: E402
from automations.engines.invoice.text import CONF, CONF_OCR  # noqa: E402

HELD_OUT = {"held-out", "fresh", "unseen", "print"}
PRIOR_WEIGHT = 10.0
CAP = 0.97
MIN_FIELD_VALUES = 15  # fewer values of one field and kind: the kind's figure alone
REGULARISATION = float(os.environ.get("INVOICE_CALIBRATION_C", "1.0"))  # inverse L2 strength of the regression


def prior(kind: str, source: str) -> float:
    base = CONF.get(kind, 0.5)
    return min(base, CONF_OCR.get(kind, base)) if source == "ocr" else base


def shrink(right: int, given: int, towards: float, weight: float = PRIOR_WEIGHT) -> float:
    return min(CAP, (right + weight * towards) / (given + weight))


def fit(records: list[dict]) -> tuple[dict, dict]:
    counts: dict = defaultdict(lambda: [0, 0])
    for r in records:
        for key in ((r["source"], r["kind"], "*"), (r["source"], r["kind"], r["field"])):
            counts[key][0] += r["ok"]
            counts[key][1] += 1
    table: dict = defaultdict(dict)
    seen: dict = defaultdict(dict)
    for (source, kind, field), (right, given) in sorted(counts.items()):
        if field != "*":
            continue
        table[source].setdefault(kind, {})["*"] = round(shrink(right, given, prior(kind, source)), 3)
        seen[source][kind] = {"*": [right, given]}
    for (source, kind, field), (right, given) in sorted(counts.items()):
        if field == "*" or given < MIN_FIELD_VALUES:
            continue
        table[source][kind][field] = round(shrink(right, given, table[source][kind]["*"]), 3)
        seen[source][kind][field] = [right, given]
    return dict(table), dict(seen)


def table_figure(table: dict, record: dict) -> float:
    """The table's confidence for a recorded value (calibration.calibrated with this table)."""
    by_kind = table.get(record["source"], {}).get(record["kind"])
    base = prior(record["kind"], record["source"])
    if not by_kind:
        return base
    return float(by_kind.get(record["field"], by_kind.get("*", base)))


BANDS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 0.99), (0.99, 1.01))


def band_table(pairs) -> list[tuple[str, int, float, float]]:
    out = []
    for lo, hi in BANDS:
        inside = [(p, ok) for p, ok in pairs if lo <= p < hi]
        if inside:
            out.append((f"{lo:.2f}-{min(hi, 1.0):.2f}", len(inside), sum(p for p, _ in inside) / len(inside),
                        sum(ok for _, ok in inside) / len(inside)))
    return out


def fit_model(records: list[dict], table: dict) -> tuple[dict, list]:
    """The logistic regression over the cues and its isotonic map; and the cross-validated (confidence,
    right) pairs of the development records, for the report."""
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    rows = [model_features(r["field"], table_figure(table, r), r.get("cues") or {}, ocr=r["source"] == "ocr")
            for r in records]
    vec = DictVectorizer(sparse=False)
    x = vec.fit_transform(rows)
    y = np.array([bool(r["ok"]) for r in records])
    groups = [f"{r['set']}/{r['invoice']}" for r in records]

    def model():
        return LogisticRegression(C=REGULARISATION, max_iter=2000)

    cv = np.zeros(len(records))
    for train, test in GroupKFold(n_splits=5).split(x, y, groups):
        cv[test] = model().fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(cv, y)
    final = model().fit(x, y)
    weights = {name: round(float(w), 5) for name, w in zip(vec.get_feature_names_out(), final.coef_[0])}
    # The cross-validated confidences through the isotonic map fitted on them (an in-sample figure for the
    # map, out-of-sample for the regression): what the development sets say of the whole model.
    mapped = [min(float(p), CAP) for p in iso.predict(cv)]
    return ({"weights": weights, "bias": round(float(final.intercept_[0]), 5), "cap": CAP,
             "isotonic": {"x": [round(float(v), 5) for v in iso.X_thresholds_],
                          "y": [round(float(v), 5) for v in iso.y_thresholds_]}},
            list(zip(mapped, y.tolist())))


def predict(model: dict, record: dict, table: dict) -> float:
    """calibration.with_cues with this model and table."""
    import math

    features = model_features(record["field"], table_figure(table, record), record.get("cues") or {},
                              ocr=record["source"] == "ocr")
    z = model["bias"] + sum(model["weights"].get(k, 0.0) * v for k, v in features.items())
    p = 1 / (1 + math.exp(-max(min(z, 30.0), -30.0)))
    xs, ys = model["isotonic"]["x"], model["isotonic"]["y"]
    import numpy as np

    return min(float(np.interp(p, xs, ys)), model["cap"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", type=Path, nargs="+")
    parser.add_argument("--sets", default="dev-cal,dev-mix,dev-fpdf,final", help="comma-separated sets to fit on")
    parser.add_argument("--no-model", action="store_true", help="the table alone, no cue model")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    sets = set(args.sets.split(","))
    if sets & HELD_OUT:
        parser.error("the held-out sets are for measuring, never for fitting")
    records = [r for path in args.records for r in map(json.loads, path.read_text().splitlines())
               if r["set"] in sets]
    table, seen = fit(records)
    artefact = {"fitted_on": sorted(sets), "values": len(records), "prior_weight": PRIOR_WEIGHT, "cap": CAP,
                "fitted_at": dt.datetime.now(dt.UTC).date().isoformat(), "table": table, "seen": seen}
    if not args.no_model and len(sets) > 1:
        # Each development set in turn left out of the whole fit (table, regression, map): how the
        # calibration holds on a producer it has not seen, which is what the held-out sets measure.
        for left_out in sorted(sets):
            rest = [r for r in records if r["set"] != left_out]
            inside = [r for r in records if r["set"] == left_out]
            rest_table, _seen = fit(rest)
            model, _pairs = fit_model(rest, rest_table)
            artefact_rows = [(predict(model, r, rest_table), bool(r["ok"])) for r in inside]
            for source in ("text", "ocr"):
                chosen = [pair for pair, r in zip(artefact_rows, inside) if r["source"] == source]
                print(f"{left_out} left out of the fit ({source}): band / values / mean confidence / right")
                for band, n, conf, right in band_table(chosen):
                    print(f"  {band:<10} {n:>5} {conf:>7.3f} {right:>7.3f}")
    if not args.no_model:
        artefact["model"], pairs = fit_model(records, table)
        for source in ("text", "ocr"):
            chosen = [pair for pair, r in zip(pairs, records) if r["source"] == source]
            print(f"cross-validated on the development sets ({source}): band / values / mean confidence / right")
            for band, n, conf, right in band_table(chosen):
                print(f"  {band:<10} {n:>5} {conf:>7.3f} {right:>7.3f}")
    for source, kinds in table.items():
        print(f"{source}:")
        for kind, by_field in kinds.items():
            right, given = seen[source][kind]["*"]
            print(f"  {kind:<22} {right:>4}/{given:<4} prior {prior(kind, source):.2f} -> {by_field['*']:.3f}"
                  + "".join(f"  {f} {v:.3f}" for f, v in by_field.items() if f != "*"))
    if not args.dry_run:
        ARTEFACT.write_text(json.dumps(artefact, indent=1, sort_keys=True) + "\n")
        print(f"written {ARTEFACT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
