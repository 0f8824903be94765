"""The text layer alone: the samples with their XML stripped, invoices in other layouts, confidence that
says how often it is right, and master data that confirms what the page says."""
import pytest

from automations.engines.invoice import extract_invoice
from automations.engines.invoice.text import CONF
from tests.automations.engines.conftest import assert_calibrated, load_truth, same_value, sample_pdfs
from tests.automations.engines.invoice_layouts import LAYOUTS, cases


def values(result) -> dict:
    return {s.field: s for s in result.suggestions}


@pytest.fixture(scope="module")
def stripped_results(truth, stripped_samples):
    """(sample name, expected fields, result from the stripped PDF) for every sample."""
    out = []
    for pdf in sample_pdfs():
        path = stripped_samples[pdf.name]
        out.append((pdf.name, truth.truth(str(pdf)), extract_invoice(path.read_bytes(), pdf.name)))
    return out


def score(rows, same):
    """Fields right / fields expected, misses per field, and (confidence, right) per suggested value."""
    right = total = 0
    misses: dict[str, int] = {}
    pairs = []
    for _name, expected, result in rows:
        got = values(result)
        for field, value in expected.items():
            suggestion = got.get(field)
            ok = same(field, value, suggestion.value if suggestion else None)
            right += ok
            total += 1
            if suggestion:
                pairs.append((suggestion.confidence, ok))
            if not ok:
                misses[field] = misses.get(field, 0) + 1
    return right, total, misses, pairs


def test_stripped_samples_are_read_from_the_text_layer(stripped_results):
    for name, _expected, result in stripped_results:
        assert result.meta["source"] == "text", name
        assert not result.needs_clarification, (name, result.reasons)
        assert any("page text" in r or "Seitentext" in r or "Text" in r for r in result.reasons)


def test_stripped_samples_give_at_least_90_percent_of_fields(stripped_results):
    right, total, misses, _pairs = score(stripped_results, load_truth().same)
    print(f"\nfields right from the text layer (26 stripped samples): {right}/{total} = {right / total:.4f}; "
          f"misses {misses}")
    assert right / total >= 0.90


def test_stripped_samples_confidence_is_calibrated(stripped_results):
    _right, _total, _misses, pairs = score(stripped_results, load_truth().same)
    table = assert_calibrated(pairs, label="stripped samples")
    assert sum(n for _edge, n, _share in table) == len(pairs)


def test_text_confidence_stays_below_structured(stripped_results):
    for _name, _expected, result in stripped_results:
        assert all(s.confidence < 0.99 for s in result.suggestions)
        assert all("Text" in s.explanation for s in result.suggestions)
    assert max(CONF.values()) < 0.99


def test_explanations_quote_the_page_text(stripped_results):
    _name, _expected, result = next(r for r in stripped_results if r[0] == "EN16931_Einfach.pdf")
    explanation = {s.field: s.explanation for s in result.suggestions}
    assert explanation["invoice_number"] == "Text auf Seite 1: „Nr. 471102 vom“"
    assert explanation["gross_total"] == "Text auf Seite 2: „Bruttosumme  529,87“"


# --- other layouts ------------------------------------------------------------------------------------

plain_same = same_value


@pytest.fixture(scope="module")
def layout_results():
    return [(case.layout, case.expected, extract_invoice(case.pdf, f"{case.layout}.pdf")) for case in cases(seed=11)]


def test_other_layouts_are_read_from_the_text_layer(layout_results):
    right, total, misses, pairs = score(layout_results, plain_same)
    per_layout = {}
    for layout, expected, result in layout_results:
        r, t, _m, _p = score([(layout, expected, result)], plain_same)
        a, b = per_layout.get(layout, (0, 0))
        per_layout[layout] = (a + r, b + t)
    print(f"\nfields right in {len(LAYOUTS)} other layouts: {right}/{total} = {right / total:.4f}; misses {misses}")
    print({k: f"{a}/{b}" for k, (a, b) in per_layout.items()})
    assert right / total >= 0.90
    assert all(a / b >= 0.75 for a, b in per_layout.values()), per_layout
    assert_calibrated(pairs, label="other layouts")


@pytest.mark.parametrize("layout", [f.__name__ for f in LAYOUTS])
def test_each_layout_gets_its_totals_number_and_type_right(layout_results, layout):
    for name, expected, result in layout_results:
        if name != layout:
            continue
        got = {k: s.value for k, s in values(result).items()}
        for field in ("invoice_number", "document_type", "gross_total", "amount_due", "issue_date"):
            assert plain_same(field, expected[field], got.get(field)), (field, expected[field], got.get(field))


# --- cross-checks -------------------------------------------------------------------------------------

def test_contradicting_sums_lower_the_confidence(layout_results):
    from demo.invoices import DEMO_INVOICES, render_pdf

    wrong = next(i for i in DEMO_INVOICES if i.gross_misprint)
    right = next(i for i in DEMO_INVOICES if not i.with_xml and not i.gross_misprint and i.layout == wrong.layout)
    bad = values(extract_invoice(render_pdf(wrong), wrong.filename))
    good = values(extract_invoice(render_pdf(right), right.filename))
    for field in ("net_total", "tax_total", "gross_total"):
        assert bad[field].confidence < 0.6 < good[field].confidence


def test_master_data_found_by_vat_id_raises_confidence(truth, stripped_samples):
    path = stripped_samples["EN16931_Einfach.pdf"]
    calls = []

    def lookup(kind, **keys):
        calls.append((kind, keys))
        if keys.get("vat_id") == "DE123456789":
            return {"number": "70001", "name": "Lieferant GmbH", "vat_id": "DE123456789"}
        return None

    plain = values(extract_invoice(path.read_bytes(), path.name))
    checked = extract_invoice(path.read_bytes(), path.name, lookup=lookup)
    got = values(checked)
    assert calls == [("supplier", {"vat_id": "DE123456789"})]
    assert got["seller_name"].value == plain["seller_name"].value == "Lieferant GmbH"
    assert got["seller_name"].confidence >= 0.98 > plain["seller_name"].confidence
    assert got["seller_vat_id"].confidence > plain["seller_vat_id"].confidence
    assert "70001" in got["seller_name"].explanation and checked.meta["supplier"] == "70001"


def test_master_data_with_another_name_lowers_confidence_but_keeps_the_value(truth, stripped_samples):
    path = stripped_samples["EN16931_Einfach.pdf"]
    got = values(extract_invoice(path.read_bytes(), path.name,
                                 lookup=lambda kind, **keys: {"number": "9", "name": "Ganz Andere AG"}))
    assert got["seller_name"].value == "Lieferant GmbH" and got["seller_name"].confidence <= 0.5


def test_a_failing_lookup_changes_nothing(truth, stripped_samples):
    path = stripped_samples["EN16931_Einfach.pdf"]

    def broken(kind, **keys):
        raise RuntimeError("master data offline")

    plain = {k: (s.value, s.confidence) for k, s in values(extract_invoice(path.read_bytes(), "x.pdf")).items()}
    after = {k: (s.value, s.confidence)
             for k, s in values(extract_invoice(path.read_bytes(), "x.pdf", lookup=broken)).items()}
    assert plain == after


def test_the_buyers_own_account_for_a_direct_debit_is_no_payee_iban(stripped_results):
    _name, expected, result = next(r for r in stripped_results if r[0] == "EN16931_SEPA_Prenotification.pdf")
    assert "iban" not in expected and "iban" not in values(result)


def test_a_french_invoice_is_read_from_its_labels():
    from tests.automations.documents.helpers import text_pdf

    pdf = text_pdf([
        "Transports Martin SAS", "5 avenue Jean Jaurès, 31000 Toulouse",
        "N° TVA intracommunautaire FR24939201495", "",
        "Facture d'acompte", "Facture n° FA-20931", "Date de facture : 5 mai 2026", "Échéance : 4 juin 2026", "",
        "Facturé à", "Fromagerie Girard SAS", "Route de Morteau", "25000 Besançon", "",
        "Total HT 1\u00a0235,07 €", "TVA 20 % 247,01 €", "Total TTC 1\u00a0482,08 €", "Acompte versé -400,00 €",
        "Net à payer 1\u00a0082,08 €", "",
        "IBAN FR59 5061 1798 1808 0827 8819 133",
    ])
    got = {s.field: s.value for s in extract_invoice(pdf, "facture.pdf").suggestions}
    assert got == {
        "invoice_number": "FA-20931", "document_type": "partial", "issue_date": "2026-05-05",
        "seller_name": "Transports Martin SAS", "seller_vat_id": "FR24939201495",
        "buyer_name": "Fromagerie Girard SAS", "net_total": "1235.07", "tax_total": "247.01",
        "gross_total": "1482.08", "amount_due": "1082.08", "currency": "EUR", "iban": "FR5950611798180808278819133",
    }
