"""What a confidence of the text reader means: the share of right values per kind of evidence, measured
on invoices the reader was not tuned on, separately for text read from a PDF's text layer and text read
by OCR (which is right less often for the same evidence: misread characters, no font sizes).

The numbers live in `calibration.json` beside this module, written by `bench/invoice_calibrate.py` from
the values `bench/invoice_accuracy.py --records` recorded on the development set's calibration parts
(`dev-cal`: layouts, wordings and fonts beyond those the rules were written for; `dev-mix`: other PDF
producers and templates; the rules were changed on both before the final fit, so their figures lean
optimistic for producers nobody has seen: the held-out sets measure that, docs/benchmarks.md). Per source and kind of
evidence, the share right is shrunk towards the hand-set prior (text.CONF / text.CONF_OCR) as if
`prior_weight` more values had been seen at it; per field within a kind, towards the kind's figure the
same way. Never above `cap` (the XML path's values carry 0.99). A kind the calibration data never showed
keeps its prior. No file: the priors alone."""
import json
from functools import lru_cache
from pathlib import Path

ARTEFACT = Path(__file__).with_name("calibration.json")


@lru_cache(maxsize=1)
def calibration_table() -> dict:
    """{source: {kind: {"*": confidence, field: confidence}}} for source "text" and "ocr"; {} without a
    fitted calibration."""
    try:
        return json.loads(ARTEFACT.read_text()).get("table", {})
    except (OSError, ValueError):
        return {}


def calibrated(kind: str, field: str, *, ocr: bool, prior: float) -> float:
    """The confidence of a value found by `kind` of evidence for `field`."""
    by_kind = calibration_table().get("ocr" if ocr else "text", {}).get(kind)
    if not by_kind:
        return prior
    return float(by_kind.get(field, by_kind.get("*", prior)))
