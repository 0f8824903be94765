"""The text reader's confidences come from a calibration fitted on invoices its rules were not tuned on
(bench/invoice_calibrate.py, the development set's calibration part), per source: a value read by OCR
carries the OCR figure of its kind of evidence, a value from a text layer the text figure."""
import json

from automations.engines.invoice import calibration, extract_invoice
from automations.engines.invoice.text import CONF
from tests.automations.documents.helpers import text_pdf

INVOICE = ["Metallbau Kranz GmbH", "Schmiedgasse 12, 74072 Heilbronn", "", "Credit Memo",
           "Numéro: KM-4711", "Datum: 05.11.2025", "Facturer à:", "Optik Wendland", "Marktstraße 44",
           "18055 Rostock", "", "Summe netto 1.000,00 EUR", "zzgl. 19 % USt. 190,00 EUR",
           "Gesamtbetrag 1.190,00 EUR", "IBAN DE89 3704 0044 0532 0130 00", "USt-IdNr. DE123456789"]


def test_the_artefact_was_fitted_on_development_data_only():
    artefact = json.loads(calibration.ARTEFACT.read_text())
    assert set(artefact["fitted_on"]) <= {"dev", "dev-cal", "dev-mix"} and artefact["values"] > 500
    table = calibration.calibration_table()
    assert set(table) == {"text", "ocr"}
    for kinds in table.values():
        for by_field in kinds.values():
            assert all(0.0 <= value <= artefact["cap"] for value in by_field.values())
    # OCR's figures are never above the text layer's for the same kind of evidence: it misreads.
    for kind, by_field in table["ocr"].items():
        if kind in table["text"]:
            assert by_field["*"] <= table["text"][kind]["*"] + 0.05


def test_each_value_carries_its_kinds_calibrated_figure():
    result = extract_invoice(text_pdf(INVOICE, size=10), "gutschrift.pdf")
    kinds = result.meta["evidence"]
    assert kinds, result.reasons
    for suggestion in result.suggestions:
        kind = kinds[suggestion.field]
        expected = calibration.calibrated(kind, suggestion.field, ocr=False, prior=CONF[kind])
        assert suggestion.confidence == round(expected, 3)


def test_a_kind_without_calibration_keeps_its_prior():
    assert calibration.calibrated("no_such_kind", "iban", ocr=True, prior=0.42) == 0.42


def test_english_and_french_wordings_of_the_development_set_are_read():
    # "Credit Memo" is a credit note, "Numéro" alone names the number, "Facturer à" heads the buyer.
    got = {s.field: s.value for s in extract_invoice(text_pdf(INVOICE, size=10), "gutschrift.pdf").suggestions}
    assert got["document_type"] == "credit_note"
    assert got["invoice_number"] == "KM-4711"
    assert got["buyer_name"] == "Optik Wendland"
