"""Fit the text reader's confidence calibration (automations/engines/invoice/calibration.json) from the
values bench/invoice_accuracy.py recorded (`--records`), on the development set's calibration part only.

  PORTAL_ENV=test .venv/bin/python bench/invoice_accuracy.py --set dev-cal --count 90 --records REC.jsonl
  PORTAL_ENV=test .venv/bin/python bench/invoice_calibrate.py REC.jsonl [--sets dev-cal] [--dry-run]

Per source (text layer, OCR) and kind of evidence: (right + w × prior) / (given + w), the prior being the
hand-set confidence of that kind (text.CONF, for OCR the lower of CONF and CONF_OCR) and w the prior's
weight in values; per field within a kind the same, shrunk towards the kind's figure; at most `cap`.
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

from automations.engines.invoice.calibration import ARTEFACT  # noqa: E402
from automations.engines.invoice.text import CONF, CONF_OCR  # noqa: E402

HELD_OUT = {"held-out", "fresh", "unseen"}
PRIOR_WEIGHT = 10.0
CAP = 0.97
MIN_FIELD_VALUES = 15  # fewer values of one field and kind: the kind's figure alone


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", type=Path)
    parser.add_argument("--sets", default="dev-cal", help="comma-separated sets to fit on")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    sets = set(args.sets.split(","))
    if sets & HELD_OUT:
        parser.error("the held-out sets are for measuring, never for fitting")
    records = [r for r in map(json.loads, args.records.read_text().splitlines()) if r["set"] in sets]
    table, seen = fit(records)
    artefact = {"fitted_on": sorted(sets), "values": len(records), "prior_weight": PRIOR_WEIGHT, "cap": CAP,
                "fitted_at": dt.datetime.now(dt.UTC).date().isoformat(), "table": table, "seen": seen}
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
