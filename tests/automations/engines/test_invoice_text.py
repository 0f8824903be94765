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


def placed_pdf(texts: list[tuple[float, float, str, float]]) -> bytes:
    """One A4 page with each (x, y from the top, text, size) drawn where it says."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for x, y, text, size in texts:
        page.setFont("Helvetica", size)
        page.drawString(x, A4[1] - y, text)
    page.save()
    return buffer.getvalue()


TOTALS = [(330, 420, "Summe netto", 9), (480, 420, "1.000,00 EUR", 9), (330, 434, "zzgl. 19 % USt.", 9),
          (480, 434, "190,00 EUR", 9), (330, 448, "Gesamtbetrag", 9), (480, 448, "1.190,00 EUR", 9)]


def test_a_brand_in_the_letterhead_gives_way_to_the_legal_name_in_the_footer():
    pdf = placed_pdf([
        (330, 60, "BAUER KÜCHEN", 20), (330, 80, "Eichenweg 3 · 93055 Regensburg", 8),
        (57, 150, "Schreinerei Albers", 10), (57, 163, "Hobelgasse 11", 10), (57, 176, "48143 Münster", 10),
        (57, 280, "Rechnung", 14), (57, 300, "Rechnungsnummer: RG-4711", 9), (57, 312, "Datum: 05.11.2025", 9),
        *TOTALS,
        (50, 790, "Küchenstudio Bauer GmbH – Eichenweg 3, 93055 Regensburg – IBAN DE89 3704 0044 0532 0130 00",
         6.5),
    ])
    got = {s.field: s.value for s in extract_invoice(pdf, "rechnung.pdf").suggestions}
    assert got["seller_name"] == "Küchenstudio Bauer GmbH"
    assert got["buyer_name"] == "Schreinerei Albers"


def test_a_department_line_over_the_buyers_name_is_not_the_name():
    pdf = placed_pdf([
        (57, 60, "Holzbau Reiter GmbH", 16), (57, 76, "Sägmühlweg 4, 87629 Füssen", 8),
        (57, 150, "Rechnungsempfänger", 8), (57, 163, "Kreditorenbuchhaltung", 10),
        (57, 176, "Optik Wendland", 10), (57, 189, "Marktstraße 44", 10), (57, 202, "18055 Rostock", 10),
        (57, 280, "Rechnung", 14), (57, 300, "Rechnungsnummer: RG-4712", 9), (57, 312, "Datum: 05.11.2025", 9),
        *TOTALS,
    ])
    got = {s.field: s.value for s in extract_invoice(pdf, "rechnung.pdf").suggestions}
    assert got["buyer_name"] == "Optik Wendland"


def test_the_recipients_address_on_the_right_names_the_buyer():
    pdf = placed_pdf([
        (50, 60, "Atelier Céramique Roche", 13), (50, 76, "6 passage des Potiers", 9), (50, 87, "35000 Rennes", 9),
        (330, 130, "Menuiserie du Lac SAS", 10), (330, 143, "3 route du Lac", 10), (330, 156, "74000 Annecy", 10),
        (50, 245, "Facture", 16), (50, 268, "Facture n° : FA-20931", 9), (50, 280, "Date : 05/11/2025", 9),
        (330, 420, "Total HT", 9), (480, 420, "1 000,00 €", 9), (330, 434, "TVA 20 %", 9),
        (480, 434, "200,00 €", 9), (330, 448, "Total TTC", 9), (480, 448, "1 200,00 €", 9),
    ])
    got = {s.field: s.value for s in extract_invoice(pdf, "facture.pdf").suggestions}
    assert got["buyer_name"] == "Menuiserie du Lac SAS"
    assert got["seller_name"] == "Atelier Céramique Roche"


def test_the_buyers_address_beside_the_reference_data_under_a_letterhead_without_top_margin():
    # groff sets the page without a top margin: the address stands higher than a DIN window, right under
    # the letterhead, and the reference data fills the same rows at the right.
    pdf = placed_pdf([
        (186, 14, "Ashcombe Surveyors LLP", 20), (200, 34, "6 Cathedral Close, EX1 1EZ Exeter", 8),
        (57, 60, "Kingfisher Boatyard Ltd", 10), (321, 60, "Invoice No", 9), (390, 60, "IN-945942", 9),
        (57, 72, "Slipway Lane 4", 10), (327, 72, "Date", 9), (388, 72, "11/01/2026", 9),
        (57, 84, "PO12 1AA Gosport", 10), (327, 84, "Customer no", 9), (407, 84, "12212", 9),
        (57, 130, "VAT Invoice IN-945942", 14),
        (57, 300, "Net total", 10), (140, 300, "£61,474.22", 10), (57, 312, "Total VAT", 10),
        (140, 312, "£12,294.84", 10), (57, 324, "Total", 10), (140, 324, "£73,769.06", 10),
    ])
    got = {s.field: s.value for s in extract_invoice(pdf, "invoice.pdf").suggestions}
    assert got["buyer_name"] == "Kingfisher Boatyard Ltd"
    assert got["seller_name"] == "Ashcombe Surveyors LLP"
    # "Total VAT" is the tax's total, "Total" the invoice's.
    assert (got["tax_total"], got["gross_total"]) == ("12294.84", "73769.06")


def test_reference_alone_names_the_number_and_a_typographic_apostrophe_the_type():
    pdf = placed_pdf([
        (57, 40, "Facture d\u2019acompte", 16),
        (57, 80, "Fournisseur", 10), (298, 80, "Acheteur", 10),
        (57, 92, "Scierie des Vosges SA", 10), (298, 92, "Pharmacie Centrale Delorme", 10),
        (57, 104, "Lieu-dit Le Moulin", 10), (298, 104, "2 place de la République", 10),
        (57, 116, "88000 Épinal", 10), (298, 116, "51100 Reims", 10),
        (57, 150, "Référence", 10), (148, 150, "F-694671", 10), (57, 162, "Réf. client", 10), (148, 162, "12484", 10),
        (57, 174, "Émise le", 10), (148, 174, "12/09/2024", 10),
        (57, 300, "Total HT", 10), (140, 300, "1 000,00 €", 10), (57, 312, "TVA 20 %", 10),
        (140, 312, "200,00 €", 10), (57, 324, "Total TTC", 10), (140, 324, "1 200,00 €", 10),
    ])
    got = {s.field: s.value for s in extract_invoice(pdf, "facture.pdf").suggestions}
    assert got["invoice_number"] == "F-694671"
    assert got["document_type"] == "partial"
    assert (got["seller_name"], got["buyer_name"]) == ("Scierie des Vosges SA", "Pharmacie Centrale Delorme")
