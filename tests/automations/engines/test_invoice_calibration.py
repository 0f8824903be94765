"""The text reader's confidences come from a calibration fitted on development sets only
(bench/invoice_calibrate.py), per source: a value read by OCR carries the OCR figure of its kind of
evidence, a value from a text layer the text figure; then the cue model weighs what else the page says
(do the totals add up, is a name from the layout printed elsewhere too, do check digits hold)."""
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
    # "final" (groff) was measured once as held out and has been a development set since; "print" is held out.
    assert set(artefact["fitted_on"]) <= {"dev", "dev-cal", "dev-mix", "dev-fpdf", "final"} and artefact["values"] > 500
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
        base = calibration.calibrated(kind, suggestion.field, ocr=False, prior=CONF[kind])
        expected = calibration.with_cues(suggestion.field, base, result.meta["cues"][suggestion.field], ocr=False)
        assert suggestion.confidence == round(expected, 3)


def test_a_kind_without_calibration_keeps_its_prior():
    assert calibration.calibrated("no_such_kind", "iban", ocr=True, prior=0.42) == 0.42


def test_english_and_french_wordings_of_the_development_set_are_read():
    # "Credit Memo" is a credit note, "Numéro" alone names the number, "Facturer à" heads the buyer.
    got = {s.field: s.value for s in extract_invoice(text_pdf(INVOICE, size=10), "gutschrift.pdf").suggestions}
    assert got["document_type"] == "credit_note"
    assert got["invoice_number"] == "KM-4711"
    assert got["buyer_name"] == "Optik Wendland"


def test_the_page_cues_of_each_value_are_kept_in_the_result():
    # The seller's VAT id (its check digit right) under the letterhead instead of at the end.
    lines = INVOICE[:2] + ["USt-IdNr. DE244272506"] + INVOICE[2:-1]
    result = extract_invoice(text_pdf(lines, size=10), "gutschrift.pdf")
    cues = result.meta["cues"]
    # 1.000,00 + 190,00 = 1.190,00: the totals add up, and every value knows it.
    assert cues["net_total"]["sums_ok"] == 1.0 and cues["gross_total"]["sums_bad"] == 0.0
    assert all(c["doc_sums"] == 1.0 for c in cues.values())
    # The seller was found in the letterhead, not under a label; it carries a legal form.
    assert cues["seller_name"]["layout"] == 1.0 and cues["seller_name"]["legal_form"] == 1.0
    assert cues["buyer_name"]["layout"] == 0.0 and cues["buyer_name"]["same_as_other"] == 0.0
    # The VAT id's and the IBAN's check digits hold; both are German.
    assert cues["seller_vat_id"] == {"doc_sums": 1.0, "check_digits": 1.0, "same_country": 1.0}
    assert cues["iban"]["check_digits"] == 1.0
    misprinted = extract_invoice(text_pdf([line.replace("DE244272506", "DE244272507") for line in lines], size=10),
                                 "gutschrift.pdf")
    assert misprinted.meta["cues"]["seller_vat_id"]["check_digits"] == 0.0


def test_a_name_that_holds_two_names_says_so():
    # Two table cells of one row read as one run: the name under the label runs on into the next cell's.
    lines = INVOICE[:6] + ["Facturer à:", "Optik Wendland GmbH  Brillenhaus Nord KG"] + INVOICE[8:]
    cues = extract_invoice(text_pdf(lines, size=10), "gutschrift.pdf").meta["cues"]
    assert cues["buyer_name"]["two_names"] == 1.0
    assert cues["seller_name"]["two_names"] == 0.0
    department = INVOICE[:6] + ["Facturer à:", "Optik Wendland Rechnungseingang"] + INVOICE[8:]
    assert extract_invoice(text_pdf(department, size=10), "g.pdf").meta["cues"]["buyer_name"]["two_names"] == 1.0
    # A legal form with its usual tail is one name.
    one = INVOICE[:6] + ["Facturer à:", "Optik Wendland GmbH & Co. KG"] + INVOICE[8:]
    assert extract_invoice(text_pdf(one, size=10), "g.pdf").meta["cues"]["buyer_name"]["two_names"] == 0.0


def test_the_model_weighs_the_cues_as_fitted():
    model = calibration.cue_model()
    assert model, "calibration.json carries no cue model"
    assert model["isotonic"]["x"] == sorted(model["isotonic"]["x"])
    assert model["isotonic"]["y"] == sorted(model["isotonic"]["y"])
    layout_name = {"doc_sums": 1.0, "layout": 1.0, "legal_form": 0.0, "same_as_other": 0.0}
    alone = calibration.with_cues("seller_name", 0.95, {**layout_name, "seen_elsewhere": 0.0}, ocr=False)
    echoed = calibration.with_cues("seller_name", 0.95, {**layout_name, "seen_elsewhere": 1.0, "legal_form": 1.0},
                                   ocr=False)
    # A name only the layout suggests, printed nowhere else and without a legal form (a brand in the
    # letterhead), is right less often than one the footer repeats with its legal form.
    assert alone < echoed
    adds_up = calibration.with_cues("gross_total", 0.97, {"doc_sums": 1.0, "sums_ok": 1.0, "sums_bad": 0.0},
                                    ocr=False)
    contradicts = calibration.with_cues("gross_total", 0.45, {"doc_sums": -1.0, "sums_ok": 0.0, "sums_bad": 1.0},
                                        ocr=False)
    assert contradicts < 0.7 < adds_up
    for value in (alone, echoed, adds_up, contradicts):
        assert 0.0 <= value <= model["cap"]


def test_without_a_model_the_table_figure_stands(monkeypatch):
    monkeypatch.setattr(calibration, "cue_model", dict)
    assert calibration.with_cues("iban", 0.93, {"check_digits": 1.0}, ocr=True) == 0.93
