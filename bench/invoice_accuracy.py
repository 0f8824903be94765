"""How often the invoice reader gets each field right on invoices it was not tuned on, from the text layer
and from a scan (OCR), beside the embedded XML; and whether its confidences are honest.

  PORTAL_ENV=test .venv/bin/python bench/invoice_accuracy.py [--count N]
      [--set dev|dev-cal|dev-mix|dev-fpdf|held-out|fresh|unseen|final|print] [--no-ocr] [--failures] [--json OUT.json]
      [--records OUT.jsonl] [--ocr-cache DIR] [--ocr-count N] [--written DIR]

Builds the sets of bench/invoice_corpus.py (dev and its calibration parts dev-cal, dev-mix and dev-fpdf; the
held-out sets:
layouts, wordings, names, fonts and producers the reader was not tuned on) in a
temporary folder, reads the truth from each PDF's embedded XML with ../shared/tools/invoice_truth.py and
runs the engine three ways per invoice: the PDF as it is (XML path), the PDF with its XML stripped (text
layer), and the stripped pages rendered to a 200 dpi greyscale TIFF read by the document stage (OCR).
Prints per set and path: the share of right fields per field and overall, per language, the calibration
per confidence band (values given, their mean confidence, the share right), and OCR pages per second."""
import argparse
import hashlib
import io
import json
import logging
import os
import pickle
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_ENV", "test")

import django  # noqa: E402

django.setup()

import invoice_corpus  # noqa: E402

from automations.documents.reading import read_file  # noqa: E402
from automations.engines.invoice import extract_invoice  # noqa: E402
from automations.engines.invoice.calibration import calibration_table  # noqa: E402
from automations.engines.invoice.fields import FIELDS  # noqa: E402

logging.getLogger("factur-x").setLevel(logging.WARNING)
TOOLS = ROOT.parent / "shared" / "tools"
BANDS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 0.99), (0.99, 1.01))
SCAN_DPI = 200


def _tools():
    sys.path.insert(0, str(TOOLS))
    import invoice_truth

    return invoice_truth


def scan_of(pdf: bytes) -> bytes:
    """The pages as a greyscale TIFF (one frame a page), the way a scanner at 200 dpi delivers them: no
    text layer."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        images = [doc[n].render(scale=SCAN_DPI / 72, grayscale=True).to_pil() for n in range(len(doc))]
    finally:
        doc.close()
    out = io.BytesIO()
    images[0].save(out, format="TIFF", dpi=(SCAN_DPI, SCAN_DPI), save_all=True, append_images=images[1:],
                   compression="tiff_deflate")
    return out.getvalue()


class Score:
    def __init__(self):
        self.right = defaultdict(int)
        self.total = defaultdict(int)
        self.by_lang = defaultdict(lambda: [0, 0])
        self.bands = defaultdict(lambda: [0, 0, 0.0])  # given, right, sum of confidences
        self.kinds = defaultdict(lambda: [0, 0, 0.0])  # the same per kind of evidence
        self.failures = []
        self.records = []  # one per value given: what a calibration is fitted on (bench/invoice_calibrate.py)

    def add(self, name: str, lang: str, truth: dict, result, same) -> None:
        got = {s.field: s for s in result.suggestions}
        for field in FIELDS:
            if field not in truth:
                continue
            suggestion = got.get(field)
            ok = suggestion is not None and same(field, truth[field], suggestion.value)
            self.total[field] += 1
            self.right[field] += ok
            self.by_lang[lang][0] += ok
            self.by_lang[lang][1] += 1
            if suggestion is not None:
                self.records.append({"invoice": name, "lang": lang, "field": field, "ok": bool(ok),
                                     "kind": (result.meta.get("evidence") or {}).get(field, "?"),
                                     "cues": (result.meta.get("cues") or {}).get(field, {}),
                                     "confidence": suggestion.confidence})
                kind = self.kinds[(result.meta.get("evidence") or {}).get(field, "?")]
                kind[0] += 1
                kind[1] += ok
                kind[2] += suggestion.confidence
                band = next(b for b in BANDS if b[0] <= suggestion.confidence < b[1])
                entry = self.bands[band]
                entry[0] += 1
                entry[1] += ok
                entry[2] += suggestion.confidence
            if not ok:
                self.failures.append((name, field, truth[field], suggestion.value if suggestion else None,
                                      suggestion.explanation if suggestion else ""))

    def overall(self) -> float:
        total = sum(self.total.values())
        return sum(self.right.values()) / total if total else 0.0

    def summary(self) -> dict:
        return {
            "overall": round(self.overall(), 4),
            "fields": {f: round(self.right[f] / self.total[f], 4) for f in FIELDS if self.total[f]},
            "languages": {k: round(v[0] / v[1], 4) for k, v in sorted(self.by_lang.items())},
            "calibration": [
                {"band": f"{lo:.2f}-{min(hi, 1.0):.2f}", "given": e[0], "mean_confidence": round(e[2] / e[0], 3),
                 "right": round(e[1] / e[0], 3)}
                for (lo, hi), e in sorted(self.bands.items()) if e[0]],
            "evidence": {k: {"given": e[0], "right": round(e[1] / e[0], 3), "confidence": round(e[2] / e[0], 3)}
                         for k, e in sorted(self.kinds.items())},
            "fields_total": sum(self.total.values()),
        }


SAMPLES = ROOT.parent / "shared" / "samples" / "zugferd-official"


def sample_invoices():
    """The visible FeRD samples (../shared/samples), German, as (name, language, PDF bytes)."""
    for path in sorted(SAMPLES.glob("*.pdf")):
        yield path.stem, "de", path.read_bytes()


def corpus(which: str, count: int, written: Path | None = None):
    if which == "samples":
        yield from sample_invoices()
        return
    if written is not None and (written / which).is_dir():
        # The set as bench/invoice_corpus.py wrote it (the same invoices for the same count), so that a
        # slow producer's PDFs are made once.
        for path in sorted((written / which).glob("*.pdf"))[:count]:
            yield path.stem, path.stem.split("-")[1], path.read_bytes()
        return
    for name, inv in invoice_corpus.invoices(which, count):
        yield name, inv.lang, invoice_corpus.render(inv)


def _ocr_read(name: str, scan: bytes, cache: Path | None):
    """The document stage's reading of a scan; with a cache folder, a scan read before (same bytes) is
    taken from there, so that a second run measures the reader, not tesseract again."""
    key = hashlib.sha256(scan).hexdigest()[:32]
    if cache is not None and (cache / f"{key}.pickle").exists():
        return pickle.loads((cache / f"{key}.pickle").read_bytes()), 0.0
    started = time.perf_counter()
    doc = read_file(f"{name}.tiff", scan)
    seconds = time.perf_counter() - started
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / f"{key}.pickle").write_bytes(pickle.dumps(doc))
    return doc, seconds


def run(which: str, count: int, ocr: bool, truth_tools, cache: Path | None = None, written: Path | None = None,
        ocr_count: int | None = None) -> dict:
    paths = {"xml": Score(), "text": Score()}
    if ocr:
        paths["ocr"] = Score()
    ocr_seconds, ocr_pages = 0.0, 0
    with tempfile.TemporaryDirectory(prefix="invoice-bench-") as tmp:
        for n, (name, lang, pdf) in enumerate(corpus(which, count, written)):
            original = Path(tmp) / f"{name}.pdf"
            stripped = Path(tmp) / f"{name}-stripped.pdf"
            original.write_bytes(pdf)
            truth_tools.strip(str(original), str(stripped))
            truth = truth_tools.truth(str(original))
            data = stripped.read_bytes()
            paths["xml"].add(name, lang, truth, extract_invoice(original.read_bytes(), original.name),
                             truth_tools.same)
            paths["text"].add(name, lang, truth, extract_invoice(data, stripped.name), truth_tools.same)
            if ocr and (ocr_count is None or n < ocr_count):
                scan = scan_of(data)
                doc, seconds = _ocr_read(name, scan, cache)
                if seconds:
                    ocr_seconds += seconds
                    ocr_pages += doc.ocr_pages
                paths["ocr"].add(name, lang, truth, extract_invoice(scan, f"{name}.tiff", layer=doc.layer),
                                 truth_tools.same)
    out = {"set": which, "invoices": count if which != "samples" else len(list(SAMPLES.glob("*.pdf")))}
    out["calibration_fitted"] = bool(calibration_table())
    for key, score in paths.items():
        out[key] = score.summary()
        out[key]["_failures"] = score.failures
        out[key]["_records"] = score.records
    if ocr and ocr_pages:
        out["ocr_pages_per_second"] = round(ocr_pages / ocr_seconds, 3)
    return out


def show(report: dict, failures: bool) -> None:
    print(f"\n== {report['set']} set: {report['invoices']} invoices ==")
    paths = [p for p in ("xml", "text", "ocr") if p in report]
    print(f"{'field':<16}" + "".join(f"{p:>9}" for p in paths))
    for field in FIELDS:
        print(f"{field:<16}" + "".join(f"{report[p]['fields'].get(field, float('nan')):>9.3f}" for p in paths))
    print(f"{'overall':<16}" + "".join(f"{report[p]['overall']:>9.3f}" for p in paths))
    for lang in ("de", "en", "fr"):
        print(f"{'  ' + lang:<16}" + "".join(f"{report[p]['languages'].get(lang, float('nan')):>9.3f}"
                                               for p in paths))
    for p in paths[1:]:
        print(f"calibration ({p}): band / values given / mean confidence / share right")
        for row in report[p]["calibration"]:
            print(f"  {row['band']:<10} {row['given']:>5} {row['mean_confidence']:>7.3f} {row['right']:>7.3f}")
    for p in paths[1:]:
        print(f"evidence ({p}): kind / values given / share right / mean confidence")
        for kind, e in report[p]["evidence"].items():
            print(f"  {kind:<22} {e['given']:>5} {e['right']:>7.3f} {e['confidence']:>7.3f}")
    if "ocr_pages_per_second" in report:
        print(f"OCR: {report['ocr_pages_per_second']} pages/s")
    if failures:
        for p in paths:
            for name, field, want, got, why in report[p]["_failures"]:
                print(f"  [{p}] {name} {field}: want {want!r} got {got!r}  ({why[:110]})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=60, help="invoices per set")
    parser.add_argument("--set", choices=(*invoice_corpus.SETS, "samples"), action="append",
                        help="samples: the visible FeRD samples beside the project (tuned on; for reference)")
    parser.add_argument("--no-ocr", action="store_true")
    parser.add_argument("--failures", action="store_true", help="list every wrong field (use on dev only)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--records", type=Path, help="write every value given as a JSON line (for calibration)")
    parser.add_argument("--ocr-cache", type=Path, help="keep what OCR read of each scan in this folder")
    parser.add_argument("--ocr-count", type=int, help="scan and read by OCR only the first N invoices of each set")
    parser.add_argument("--written", type=Path,
                        help="read a set's PDFs from WRITTEN/<set>/ as bench/invoice_corpus.py wrote them")
    args = parser.parse_args(argv)
    truth_tools = _tools()
    reports = []
    for which in args.set or invoice_corpus.SETS:
        report = run(which, args.count, not args.no_ocr, truth_tools, args.ocr_cache, args.written, args.ocr_count)
        show(report, args.failures)
        reports.append(report)
    if args.records:
        with args.records.open("a") as out:
            for r in reports:
                for p in ("text", "ocr"):
                    for record in r.get(p, {}).get("_records", []):
                        out.write(json.dumps({"set": r["set"], "source": p, **record}) + "\n")
    summary = [{k: ({kk: vv for kk, vv in v.items() if not kk.startswith("_")} if isinstance(v, dict) else v)
                for k, v in r.items()} for r in reports]
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    print(json.dumps([{"set": r["set"], **{p: r[p]["overall"] for p in ("xml", "text", "ocr") if p in r}}
                      for r in summary]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
