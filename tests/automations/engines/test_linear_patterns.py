"""Every regular expression that runs on a ticket, a document's text or a generated answer takes time linear in
the input's length (tests/linear_time.py compares growth, not wall-clock times) — the classifier's masking
(a 1 MB ticket without spaces once stalled a worker for minutes), the language model's masking and
guardrails, field validation, the invoice engine's text patterns and the rules engine — and the masking
gives exactly what it gave before on the demo tickets and documents."""
import csv
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from automations.engines import validation
from automations.engines.classifier import text as classifier_text
from automations.engines.invoice import text as invoice_text
from automations.engines.invoice.pdf import Row, Segment, TextLayer
from automations.engines.llm import prompts
from automations.engines.rules import evaluate_rules
from automations.execution.pipeline import steps
from tests.linear_time import assert_linear, repeated

# Inputs without spaces made of what the patterns look for: address, number and amount characters.
UNITS = ["a", "a@", "a.", "1", "1.", "1,", "1-", "+1", "a-", "a@a.", "a.a@", "DE12", "x1-", "1 ", "111 ", " ",
         "\xa0", "(1", "www."]
DEMO_DATA = Path(__file__).resolve().parents[3] / "demo" / "data"


def _demo_texts() -> list[str]:
    texts = []
    for name in ("service_tickets.csv", "belegklassifizierung.csv"):
        with (DEMO_DATA / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts += [row[column] for column in ("subject", "body", "text") if row.get(column)]
    return texts


# --- the classifier's masking ---------------------------------------------------------------------

def test_one_megabyte_without_spaces_is_masked_in_well_under_a_second():
    ticket = "".join("\n".join(_demo_texts()[:400]).split())  # realistic ticket text, spaces removed
    for unit in (ticket, "a", "a@", "a.", "1", "1.", "a@a.", "1-"):
        text = repeated(unit, 1_000_000)
        best = min(_seconds(classifier_text.normalise, text) for _ in range(2))
        assert best < 1.0, f"{unit[:20]!r} repeated to 1 MB took {best:.2f} s of CPU"


def _seconds(fn, text) -> float:
    """CPU seconds of the call: what the masking costs, not what other processes on the machine take."""
    started = time.process_time()
    fn(text)
    return time.process_time() - started


def test_masking_grows_linearly_with_the_text():
    assert_linear(classifier_text.mask_identifiers, UNITS)
    assert_linear(classifier_text.normalise, ["a@", "1.", "a.a@", " \n"])


# The masking as it was before it was made linear: the reference for "nothing changed on normal text".
_OLD_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_OLD_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_OLD_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b", re.IGNORECASE)
_OLD_DATE = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.\s?(?:\d{4}|\d{2})\b|\b\d{4}-\d{2}-\d{2}\b")
_OLD_AMOUNT = re.compile(r"\b\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?\b|\b\d+,\d{2}\b")


def _old_mask(text: str) -> str:
    text = _OLD_EMAIL.sub(" xemailx ", text)
    text = _OLD_URL.sub(" xurlx ", text)
    text = _OLD_IBAN.sub(lambda m: " xibanx " if sum(c.isdigit() for c in m.group(0)) >= 10 else m.group(0), text)
    text = _OLD_DATE.sub(" xdatex ", text)
    text = _OLD_AMOUNT.sub(" xamountx ", text)
    text = classifier_text._PHONE.sub(classifier_text._phone_or_number, text)
    return classifier_text._LONG_NUMBER.sub(" xnumberx ", text)


EDGE_CASES = [
    "max.mustermann@example.de", "a@b.c+d@e.f", "a@b.c..x@d.e", "a@b.c.@d.e", "mail: x@y.de, www.firma.de/x",
    "http://www.a.de https://b.de/c?d=1", "hww.x wttps://x", "DE89 3704 0044 0532 0130 00", "de89370400440532013000",
    "am 01.02.2026 und 2026-02-01", "1.234,56 EUR, 12,50 €, 1.234.567", "+49 (0)89 123 45-67, 0171/1234567",
    "Kd-Nr 123456, Auftrag 98765", "Müller@Straße.de", "x_1@a-b.c-d.e", "", "@", "a@", "@b.c", ".a@b.cd.",
]


def test_masking_is_unchanged_on_demo_texts_and_edge_cases():
    texts = _demo_texts() + EDGE_CASES
    assert len(texts) > 1900
    changed = [t for t in texts if classifier_text.mask_identifiers(t) != _old_mask(t)]
    assert changed == []


def test_masking_is_unchanged_on_random_short_strings():
    import random

    rng = random.Random(12)
    alphabet = "ab1.+-@ _,ü/()DE:w"
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert classifier_text.mask_identifiers(text) == _old_mask(text), text


# --- the language model: masking before the call, guardrails on the answer --------------------------

_OLD_LLM_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def test_language_model_masking_grows_linearly_and_is_unchanged_on_demo_texts():
    every = {"iban", "email", "phone"}
    assert_linear(lambda text: prompts.mask_text(text, every), UNITS, label="mask_text")

    def old(text):
        return _OLD_LLM_EMAIL.sub("[EMAIL]", prompts.mask_text(text, {"iban"})[0])

    for text in _demo_texts() + EDGE_CASES:
        assert prompts.mask_text(text, {"iban", "email"})[0] == old(text)


def test_guardrail_findings_grow_linearly():
    guardrails = SimpleNamespace(forbidden_phrases=["verbindlich"], forbidden_patterns=[r"\b100\s?%\s+sicher\b"],
                                 personal_data_patterns=["email", "iban", "phone"], required_disclaimers=["Hinweis"],
                                 max_length=None)
    assert_linear(lambda text: steps.guardrail_findings(guardrails, text), UNITS, label="guardrail_findings")


def test_field_validation_grows_linearly():
    specs = [{"name": "f", "type": kind} for kind in ("email", "iban", "vat_id", "date", "decimal")]
    specs.append({"name": "f", "type": "text", "validation": {"pattern": r"[A-Z]{2}-\d+"}})

    def validate(text):
        for spec in specs:
            steps.ValidateStep.field_problems(spec, text, validation)

    assert_linear(validate, UNITS + ["1.1", "a@b.c"], label="field_problems")
    assert_linear(validation.parse_decimal, ["1.", " ", "\xa0", "1 EUR ", "1,", "111 "])
    assert_linear(validation.parse_date, ["1.", " ", "1 Mai "])


def test_configured_rules_grow_linearly():
    rules = [{"category": "invoice", "keywords": ["rechnung"], "patterns": [r"RE-\d+", r"\s*,\s*x"]}]
    assert_linear(lambda text: evaluate_rules(text, rules), ["a", " ", "1", "RE-", "a,"], label="evaluate_rules")


# --- the invoice engine's text patterns -------------------------------------------------------------

def _one_row(text: str) -> TextLayer:
    return TextLayer(rows=[Row(page=0, segments=[Segment(text, 50, 500, 100, 110, 10.0)])], pages=1,
                     page_heights=[842.0], source="test")


def _many_rows(unit: str, size: int) -> TextLayer:
    line = repeated(unit, 60)
    rows = [Row(page=0, segments=[Segment(line, 50, 500, 12.0 * i, 12.0 * i + 10, 10.0)])
            for i in range(max(1, size // 60))]
    return TextLayer(rows=rows, pages=1, page_heights=[842.0], source="test")


INVOICE_UNITS = ["a", "1", "1.", "1,", " ", "\xa0", "111 ", "DE12", "gutschrift ", "rechnung ", "summe ", "12.12.",
                 "Rechnung Nr. ", "GmbH, ", "UST ", " - ", "DE123456789 "]
INVOICE_SIZES = (2_000, 16_000, 128_000)


@pytest.mark.parametrize("name", ["MONEY", "DATE", "IBAN", "VAT", "LEGAL_FORM", "INVOICE_WORDS", "NO_VAT",
                                  "PAYER_CONTEXT", "NOT_ISSUE_DATE", "NOT_TOTAL", "_VAT_LABEL"])
def test_invoice_patterns_grow_linearly(name):
    pattern = getattr(invoice_text, name)
    assert_linear(lambda text: list(pattern.finditer(text)), INVOICE_UNITS, label=name, sizes=INVOICE_SIZES)


def test_invoice_labels_type_words_and_separators_grow_linearly():
    label_sets = (invoice_text._NUMBER_LABEL_RES, invoice_text._DATE_LABEL_RES)
    labels = [regex for regexes in label_sets for regex, _kind in regexes]
    labels += invoice_text._NET_RES + invoice_text._TAX_RES + invoice_text._GROSS_RES + invoice_text._DUE_RES
    labels += [pattern for pattern, _kind in invoice_text.TYPE_WORDS]
    assert_linear(lambda text: [regex.search(text) for regex in labels], INVOICE_UNITS, label="labels",
                  sizes=INVOICE_SIZES, repeat=1)
    separators = (invoice_text._HEAD_SEPARATOR, invoice_text._LETTERHEAD_SEPARATOR, invoice_text._NAME_SEPARATOR)
    assert_linear(lambda text: [regex.split(text) for regex in separators], INVOICE_UNITS, label="separators",
                  sizes=INVOICE_SIZES)
    assert_linear(lambda text: invoice_text._TITLE_NUMBER.match(text), ["rechnung" + " " * 50, " "], label="title")


def test_the_two_names_cue_grows_linearly():
    # A name's tail after its legal form ("& Co. KG", "mbH", ...) and a tax-total label, on long hostile runs.
    units = ["& Co.", "& Co", ".", " ", "GmbH ", "KG", "total vat ", "a"]
    assert_linear(lambda text: invoice_text._holds_two_names("Muster GmbH " + text + "x", "Muster"), units,
                  label="two names", sizes=INVOICE_SIZES)
    assert_linear(lambda text: invoice_text._TAX_TOTAL_LABEL.match("total vat " + text), units, label="tax total",
                  sizes=INVOICE_SIZES)


def test_invoice_text_extraction_grows_linearly_with_a_long_row_and_with_many_rows():
    assert_linear(lambda text: invoice_text.extract_text_fields(_one_row(text)), INVOICE_UNITS,
                  label="extract_text_fields (one row)", sizes=INVOICE_SIZES, repeat=1)
    assert_linear(invoice_text.extract_text_fields, ["Rechnung Nr. 1 ", "Summe 1.234,56 EUR ", "a "],
                  label="extract_text_fields (many rows)", make=_many_rows, sizes=INVOICE_SIZES, repeat=1)
