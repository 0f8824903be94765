"""Shared sample data for the engine tests: the public e-invoice samples beside the project (never copied
into it), the external judge `invoice_truth.py`, and the samples with their XML removed."""
import importlib.util
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared"
SAMPLES = SHARED / "samples"
ZUGFERD_DIR = SAMPLES / "zugferd-official"
XRECHNUNG_DIR = SAMPLES / "xrechnung"
TRUTH_TOOL = SHARED / "tools" / "invoice_truth.py"


def sample_pdfs() -> list[Path]:
    return sorted(ZUGFERD_DIR.glob("*.pdf")) if ZUGFERD_DIR.is_dir() else []


def xrechnung_files() -> list[Path]:
    return sorted(XRECHNUNG_DIR.glob("*/*.xml")) if XRECHNUNG_DIR.is_dir() else []


def xrechnung_pairs() -> list[tuple[Path, Path]]:
    return [(ubl.with_name(ubl.name.replace("_ubl.xml", "_uncefact.xml")), ubl)
            for ubl in xrechnung_files() if ubl.name.endswith("_ubl.xml")
            and ubl.with_name(ubl.name.replace("_ubl.xml", "_uncefact.xml")).exists()]


@lru_cache(maxsize=1)
def load_truth():
    """The external judge, imported by path; None when shared/ is not beside the project."""
    if not TRUTH_TOOL.exists():
        return None
    spec = importlib.util.spec_from_file_location("invoice_truth", TRUTH_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def truth():
    module = load_truth()
    if module is None or not sample_pdfs():
        pytest.skip(f"sample invoices and invoice_truth.py not found under {SHARED} (shared/ beside the project)")
    return module


@pytest.fixture(scope="session")
def stripped_samples(truth, tmp_path_factory) -> dict[str, Path]:
    """Each sample PDF without its attachments, as the judge strips it: name -> path."""
    target = tmp_path_factory.mktemp("stripped")
    out = {}
    for pdf in sample_pdfs():
        dst = target / pdf.name
        truth.strip(str(pdf), str(dst))
        out[pdf.name] = dst
    return out


def same_value(field: str, expected: str, got) -> bool:
    """The judge's comparison when it is there; else the same rules (decimals by value, text by whitespace)."""
    truth = load_truth()
    if truth is not None:
        return truth.same(field, expected, got)
    from decimal import Decimal

    if got is None:
        return False
    if field in ("net_total", "tax_total", "gross_total", "amount_due"):
        return Decimal(str(got)) == Decimal(expected)
    if field in ("iban", "currency"):
        return str(got).replace(" ", "").upper() == expected.upper()
    return " ".join(str(got).split()) == expected


def calibration_table(pairs: list[tuple[float, bool]]) -> list[tuple[float, int, float]]:
    """(band lower edge, values, share right) per 0.1-wide confidence band."""
    bands: dict[float, list[bool]] = {}
    for confidence, right in pairs:
        edge = min(round(confidence * 1000) // 100, 9) / 10
        bands.setdefault(edge, []).append(right)
    return [(edge, len(v), sum(v) / len(v)) for edge, v in sorted(bands.items())]


def assert_calibrated(pairs, *, min_values=20, slack=0.1, label=""):
    table = calibration_table(pairs)
    print(f"\ncalibration {label}: band  values  share right")
    for edge, n, share in table:
        print(f"  [{edge:.1f}, {edge + 0.1:.1f})  {n:5d}  {share:.3f}")
    for edge, n, share in table:
        if n >= min_values:
            assert share >= edge - slack, f"band [{edge:.1f}, {edge + 0.1:.1f}) is right {share:.3f} of {n}"
    return table
