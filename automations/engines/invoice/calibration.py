"""What a confidence of the text reader means, fitted on invoices: first the share of right values per kind
of evidence (the table), then a model that weighs what else the page says about the value (the cues).

The numbers live in `calibration.json` beside this module, written by `bench/invoice_calibrate.py` from
the values `bench/invoice_accuracy.py --records` recorded on the development sets (never on a held-out
set: docs/benchmarks.md says which sets were fitted on and which were measured once).

The table: per source (text layer, OCR) and kind of evidence, the share right shrunk towards the hand-set
prior (text.CONF / text.CONF_OCR) as if `prior_weight` more values had been seen at it; per field within a
kind, towards the kind's figure the same way. A kind the calibration data never showed keeps its prior.

The model (`with_cues`): a logistic regression over the table's figure (as log-odds), the source and the
document's cues (text.document_cues: do the totals add up, was a name found by a label or only by its
place, is it printed elsewhere too, does it carry a legal form, do check digits hold), each cue per family
of fields; then an isotonic map fitted on cross-validated predictions, so that a 0.9 is right nine times
in ten on the development sets. Never above `cap` (the XML path's values carry 0.99). No file or no model:
the table's figure (or the prior) alone."""
import bisect
import json
import math
from functools import lru_cache
from pathlib import Path

ARTEFACT = Path(__file__).with_name("calibration.json")
FAMILIES = {"net_total": "amount", "tax_total": "amount", "gross_total": "amount", "amount_due": "due",
            "seller_name": "name", "buyer_name": "name", "seller_vat_id": "vat", "iban": "iban"}


@lru_cache(maxsize=1)
def _artefact() -> dict:
    try:
        return json.loads(ARTEFACT.read_text())
    except (OSError, ValueError):
        return {}


def calibration_table() -> dict:
    """{source: {kind: {"*": confidence, field: confidence}}} for source "text" and "ocr"; {} without a
    fitted calibration."""
    return _artefact().get("table", {})


def cue_model() -> dict:
    """{"weights": {feature: weight}, "bias": b, "isotonic": {"x": [...], "y": [...]}, "cap": c}; {} without."""
    return _artefact().get("model", {})


def calibrated(kind: str, field: str, *, ocr: bool, prior: float) -> float:
    """The confidence of a value found by `kind` of evidence for `field`, from the table."""
    by_kind = calibration_table().get("ocr" if ocr else "text", {}).get(kind)
    if not by_kind:
        return prior
    return float(by_kind.get(field, by_kind.get("*", prior)))


def _logit(p: float) -> float:
    p = min(max(p, 0.02), 0.98)
    return math.log(p / (1 - p))


def model_features(field: str, base: float, cues: dict[str, float], *, ocr: bool) -> dict[str, float]:
    """The model's inputs for one value (the fit in bench/invoice_calibrate.py builds them the same way)."""
    family = FAMILIES.get(field, "other")
    out = {"logit_base": _logit(base), "ocr": float(ocr), family: 1.0, f"{family}:ocr": float(ocr)}
    for cue, value in cues.items():
        out[f"{family}:{cue}"] = float(value)
    if family == "name":
        layout = cues.get("layout", 0.0)
        out["name:layout*seen_elsewhere"] = layout * cues.get("seen_elsewhere", 0.0)
        out["name:layout*legal_form"] = layout * cues.get("legal_form", 0.0)
        out["name:layout*ocr"] = layout * float(ocr)
    return out


def with_cues(field: str, base: float, cues: dict[str, float], *, ocr: bool) -> float:
    """The confidence of a value whose table figure is `base`, given the page's cues about it."""
    model = cue_model()
    if not model:
        return base
    weights = model["weights"]
    z = model["bias"] + sum(weights.get(k, 0.0) * v for k, v in model_features(field, base, cues, ocr=ocr).items())
    p = 1 / (1 + math.exp(-max(min(z, 30.0), -30.0)))
    iso = model.get("isotonic")
    if iso:
        xs, ys = iso["x"], iso["y"]
        i = bisect.bisect_left(xs, p)
        if i <= 0:
            p = ys[0]
        elif i >= len(xs):
            p = ys[-1]
        else:
            x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
            p = y0 + (y1 - y0) * (p - x0) / (x1 - x0) if x1 > x0 else y1
    return round(min(p, model.get("cap", 0.97)), 3)
