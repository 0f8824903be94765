"""Bad input never raises: it comes back with a reason and needs_clarification, the item kept for a person."""
import io
import random

import pytest
from pypdf import PdfWriter
from reportlab.pdfgen import canvas

from automations.engines.base import EngineInput, InputFile, get_engine
from automations.engines.invoice import extract_invoice
from tests.automations.engines.conftest import sample_pdfs
from tests.automations.engines.test_invoice_structured import ZF1_EXPECTED, plain_pdf, with_attachment, zugferd1_xml


def text_pdf(lines, *, image=False) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    for i, line in enumerate(lines):
        c.drawString(72, 780 - 14 * i, line)
    if image:
        from PIL import Image
        from reportlab.lib.utils import ImageReader

        picture = io.BytesIO()
        Image.new("L", (200, 280), 255).save(picture, "PNG")
        picture.seek(0)
        c.drawImage(ImageReader(picture), 40, 40, 500, 700)
    c.showPage()
    c.save()
    return buf.getvalue()


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buf, "PNG")
    return buf.getvalue()


def a_sample() -> bytes:
    pdfs = sample_pdfs()
    if pdfs:
        return pdfs[0].read_bytes()
    from demo.invoices import DEMO_INVOICES, render_invoice

    return render_invoice(DEMO_INVOICES[0])


BROKEN = {
    "empty": lambda: b"",
    "random bytes": lambda: random.Random(1).randbytes(4000),
    "pdf header then garbage": lambda: b"%PDF-1.7\n" + random.Random(2).randbytes(5000),
    "truncated pdf": lambda: a_sample()[: len(a_sample()) // 10],
    "png image": png,
    "jpeg header": lambda: b"\xff\xd8\xff\xe0" + random.Random(3).randbytes(500),
    "xml not well-formed": lambda: b"<?xml version='1.0'?><rsm:CrossIndustryInvoice><unclosed>",
    "xml that is no invoice": lambda: b"<?xml version='1.0'?><order><id>4711</id></order>",
    "xml external entity": lambda: (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                    b'<CrossIndustryInvoice><ExchangedDocument><ID>&x;</ID></ExchangedDocument>'
                                    b'</CrossIndustryInvoice>'),
    "billion laughs": lambda: (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                               b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                               b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                               b'<CrossIndustryInvoice><ExchangedDocument><ID>&c;</ID></ExchangedDocument>'
                               b'</CrossIndustryInvoice>'),
    "scanned pdf": lambda: text_pdf([], image=True),
    "letter, not an invoice": lambda: text_pdf(["Sehr geehrte Damen und Herren,",
                                                "wir laden Sie herzlich zu unserem Sommerfest am 12.07.2025 ein.",
                                                "Mit freundlichen Grüßen"]),
    "pdf without pages": lambda: _empty_pdf(),
}


def _empty_pdf() -> bytes:
    buf = io.BytesIO()
    PdfWriter().write(buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_input_gives_a_reason_and_clarification(name):
    result = extract_invoice(BROKEN[name](), f"{name}.bin")
    assert result.needs_clarification, result
    assert result.reasons and all(isinstance(r, str) and len(r) > 10 for r in result.reasons)
    assert result.suggestions == []


def test_a_scan_is_reported_as_such():
    result = extract_invoice(text_pdf([], image=True), "scan.pdf")
    assert any("scan" in r.lower() or "textebene" in r.lower() for r in result.reasons)


def test_xml_attacks_are_refused_before_parsing():
    for name in ("xml external entity", "billion laughs"):
        result = extract_invoice(BROKEN[name](), "x.xml")
        assert result.suggestions == [] and "DOCTYPE" in result.reasons[0]


def test_unreadable_embedded_xml_falls_back_to_the_page_text():
    from demo.invoices import DEMO_INVOICES, render_pdf

    invoice = next(i for i in DEMO_INVOICES if i.with_xml)
    pdf = with_attachment(render_pdf(invoice), "factur-x.xml", b"<?xml version='1.0'?><rsm:Cross")
    result = extract_invoice(pdf, "x.pdf")
    got = {s.field: s.value for s in result.suggestions}
    assert result.meta["source"] == "text" and not result.needs_clarification
    assert got["invoice_number"] == invoice.number and got["gross_total"] == str(invoice.gross())
    assert any("factur-x.xml" in r for r in result.reasons)


def test_an_unknown_profile_is_read_but_goes_to_clarification():
    xml = zugferd1_xml().replace(b"urn:ferd:CrossIndustryDocument:invoice:1p0:comfort",
                                 b"urn:example:private-profile:9")
    result = extract_invoice(xml, "x.xml")
    assert result.needs_clarification and any("urn:example:private-profile:9" in r for r in result.reasons)
    assert {s.field: s.value for s in result.suggestions} == ZF1_EXPECTED


def test_an_encrypted_pdf_without_user_password_is_read():
    writer = PdfWriter(clone_from=io.BytesIO(with_attachment(plain_pdf(), "ZUGFeRD-invoice.xml", zugferd1_xml())))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    assert {s.field: s.value for s in extract_invoice(buf.getvalue(), "x.pdf").suggestions} == ZF1_EXPECTED


def test_damaged_copies_of_a_real_invoice_never_raise():
    data = bytearray(a_sample())
    rng = random.Random(5)
    for _ in range(12):
        copy = bytearray(data)
        for _flip in range(rng.randrange(1, 200)):
            copy[rng.randrange(len(copy))] = rng.randrange(256)
        result = extract_invoice(bytes(copy), "damaged.pdf")
        assert result.needs_clarification or result.suggestions


def test_the_engine_clarifies_an_item_without_a_readable_file(tmp_path):
    engine = get_engine("invoice")
    empty = EngineInput(tenant_id=1, use_case_key="eingangsrechnungen", payload={}, files=[], output_fields=[])
    assert engine.suggest(empty, parameters={}).needs_clarification
    missing = EngineInput(tenant_id=1, use_case_key="eingangsrechnungen", payload={}, output_fields=[],
                          files=[InputFile("weg.pdf", "application/pdf", tmp_path / "weg.pdf")])
    result = engine.suggest(missing, parameters={})
    assert result.needs_clarification and "weg.pdf" in result.reasons[0]


def test_a_scan_with_a_stamp_of_text_is_still_a_scan():
    result = extract_invoice(text_pdf(["Eingang 12.03.2025"], image=True), "scan.pdf")
    assert result.needs_clarification and result.suggestions == []
    assert any("scan" in r.lower() or "textebene" in r.lower() for r in result.reasons)
