"""How long the invoice engine takes per document, structured (embedded XML) and from the text layer,
against the time pypdf alone needs to open the same file and list its pages and attachments (the floor any
reader of the file pays) and, for the text layer, pypdf's plain text extraction, measured in the same run.

  PORTAL_ENV=test .venv/bin/python bench/invoice_extract.py [--repeat N]

Uses the FeRD samples beside the project (../shared/samples/zugferd-official) and their stripped copies;
without them, the project's demo invoices. Prints one line per kind and a JSON summary last."""
import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_ENV", "test")

import django  # noqa: E402

django.setup()

from pypdf import PdfReader  # noqa: E402

from automations.engines.invoice import extract_invoice  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "samples" / "zugferd-official"
TRUTH = ROOT.parent / "shared" / "tools"


def documents() -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """(structured, text-only) documents as (name, bytes)."""
    if SAMPLES.is_dir() and (TRUTH / "invoice_truth.py").exists():
        sys.path.insert(0, str(TRUTH))
        from invoice_truth import strip

        structured, plain = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for pdf in sorted(SAMPLES.glob("*.pdf")):
                out = Path(tmp) / pdf.name
                strip(str(pdf), str(out))
                structured.append((pdf.name, pdf.read_bytes()))
                plain.append((pdf.name, out.read_bytes()))
        return structured, plain
    from demo.invoices import DEMO_INVOICES, render_invoice

    docs = [(i.filename, render_invoice(i)) for i in DEMO_INVOICES]
    with_xml = [d for d, i in zip(docs, DEMO_INVOICES) if i.with_xml]
    return with_xml, [d for d, i in zip(docs, DEMO_INVOICES) if not i.with_xml]


def pypdf_open(data: bytes) -> None:
    reader = PdfReader(io.BytesIO(data))
    len(reader.pages)
    list(reader.attachments)


def pypdf_text(data: bytes) -> None:
    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text()


def timed(fn, docs, repeat: int) -> list[float]:
    """Per document, the best of `repeat` runs in milliseconds (best-of filters scheduler noise)."""
    out = []
    for _name, data in docs:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            fn(data)
            best = min(best, time.perf_counter() - start)
        out.append(best * 1000)
    return out


def summary(label: str, ms: list[float]) -> dict:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    row = {"kind": label, "documents": len(ms), "median_ms": round(statistics.median(ms), 1),
           "p95_ms": round(p95, 1), "max_ms": round(max(ms), 1), "total_s": round(sum(ms) / 1000, 2)}
    print(f"{label:28s} n={row['documents']:3d}  median {row['median_ms']:8.1f} ms  p95 {row['p95_ms']:8.1f} ms"
          f"  max {row['max_ms']:8.1f} ms")
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    structured, plain = documents()
    extract_invoice(structured[0][1], structured[0][0])  # imports and caches out of the measurement
    rows = [
        summary("pypdf open (with XML)", timed(pypdf_open, structured, args.repeat)),
        summary("engine, structured (XML)", timed(lambda d: extract_invoice(d, "x.pdf"), structured, args.repeat)),
        summary("pypdf open (stripped)", timed(pypdf_open, plain, args.repeat)),
        summary("pypdf plain text (stripped)", timed(pypdf_text, plain, args.repeat)),
        summary("engine, text layer", timed(lambda d: extract_invoice(d, "x.pdf"), plain, args.repeat)),
    ]
    ratio = {"structured_vs_open": round(rows[1]["median_ms"] / max(rows[0]["median_ms"], 0.01), 1),
             "text_vs_open": round(rows[4]["median_ms"] / max(rows[2]["median_ms"], 0.01), 1),
             "text_vs_pypdf_text": round(rows[4]["median_ms"] / max(rows[3]["median_ms"], 0.01), 1)}
    print(f"median time as a multiple of pypdf's open: structured x{ratio['structured_vs_open']}, "
          f"text layer x{ratio['text_vs_open']} (x{ratio['text_vs_pypdf_text']} of pypdf's plain text extraction)")
    print(json.dumps({"rows": rows, "ratio": ratio}))


if __name__ == "__main__":
    main()
