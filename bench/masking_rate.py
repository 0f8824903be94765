"""How fast identifiers are masked — the classifier's masking (and its whole normalisation) and the language
model's — in characters per second, on realistic ticket text and on adversarial input without spaces, beside
a plain pass over the same text in the same run: `str.split()` and `" ".join` (what any tokeniser pays) and
`str.translate` (one table lookup per character), the physical floor of touching every character once.

  PORTAL_ENV=test .venv/bin/python bench/masking_rate.py [--chars 1000000] [--repeat 3]

The realistic text is the demo tickets and documents (demo/data) joined and repeated to --chars;
the adversarial inputs are short units repeated to --chars without a space ("a@", "1.", …), the inputs that
once made the e-mail pattern quadratic. For contrast it also times the e-mail pattern as it was before it was
made linear, on 10,000 and 40,000 characters only (it takes seconds there and would take hours on a
megabyte). Prints one line per input and a JSON summary last; exits 1 when masking a megabyte of any input
takes a second or more."""
import argparse
import csv
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_ENV", "test")

import django  # noqa: E402

django.setup()

from automations.engines.classifier import text as classifier_text  # noqa: E402
from automations.engines.llm import prompts  # noqa: E402

ADVERSARIAL = ["a", "a@", "a.", "1", "1.", "1,", "1-", "a@a.", "a.a@", "+1", "DE12", "x1-"]
OLD_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def realistic(chars: int) -> str:
    texts = []
    for name in ("service_tickets.csv", "belegklassifizierung.csv"):
        with (ROOT / "demo" / "data" / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts += [row[column] for column in ("subject", "body", "text") if row.get(column)]
    joined = "\n\n".join(texts)
    return (joined * (chars // len(joined) + 1))[:chars]


def best(fn, text: str, repeat: int) -> float:
    seconds = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn(text)
        seconds = min(seconds, time.perf_counter() - started)
    return seconds


MEASURED = {
    "mask_identifiers": classifier_text.mask_identifiers,
    "normalise": classifier_text.normalise,
    "llm_mask_text": lambda text: prompts.mask_text(text, {"iban", "email", "phone"}),
    "peer_split_join": lambda text: " ".join(text.split()),
    "peer_translate": lambda text: text.lower().translate(FOLD),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inputs = {"realistic tickets": realistic(args.chars)}
    inputs["realistic, no spaces"] = "".join(inputs["realistic tickets"].split())
    inputs["realistic, no spaces"] = (inputs["realistic, no spaces"] * 2)[:args.chars]
    for unit in ADVERSARIAL:
        inputs[f"{unit!r} repeated"] = (unit * (args.chars // len(unit) + 1))[:args.chars]

    rows = []
    print(f"{'input':24s} " + " ".join(f"{name:>18s}" for name in MEASURED) + "   (million characters per second)")
    for label, text in inputs.items():
        row = {"input": label, "chars": len(text)}
        for name, fn in MEASURED.items():
            seconds = best(fn, text, args.repeat)
            row[f"{name}_s"] = round(seconds, 4)
            row[f"{name}_mchars_per_s"] = round(len(text) / seconds / 1e6, 2)
        row["mask_vs_split_join"] = round(row["mask_identifiers_s"] / row["peer_split_join_s"], 1)
        rows.append(row)
        print(f"{label:24s} " + " ".join(f"{row[f'{name}_mchars_per_s']:18.2f}" for name in MEASURED))

    before = {}
    for size in (10_000, 40_000):
        text = ("a" * size)
        before[size] = {"old_email_s": round(best(lambda t: OLD_EMAIL.sub(" x ", t), text, 1), 3),
                        "new_mask_s": round(best(classifier_text.mask_identifiers, text, 1), 5)}
        print(f"e-mail pattern before/after on {size:,} characters without spaces: "
              f"{before[size]['old_email_s']:.3f} s / {before[size]['new_mask_s']:.5f} s (whole masking)")

    slowest = max(row["normalise_s"] for row in rows)
    print(f"slowest normalisation of {args.chars:,} characters: {slowest:.3f} s; masking costs "
          f"x{min(r['mask_vs_split_join'] for r in rows)}–x{max(r['mask_vs_split_join'] for r in rows)} "
          "of a split/join pass")
    print(json.dumps({"rows": rows, "before_after": before}))
    sys.exit(0 if slowest < 1.0 * args.chars / 1_000_000 else 1)


if __name__ == "__main__":
    main()
