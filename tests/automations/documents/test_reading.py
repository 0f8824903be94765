"""The document stage on the files as they arrive: text layers with their word boxes, scans and images
by OCR (one small page each: OCR costs seconds), broken text layers, e-mails with HTML bodies and
attachments, plain text, XML; and the use case's input fields it fills."""
import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from automations.documents.fields import fill_input_fields
from automations.documents.html import html_to_text
from automations.documents.reading import read_file
from tests.automations.documents.helpers import mail, scan_of, text_pdf

LINES = ["Lieferschein Nr. LS-2025-0815", "Metallbau Weber GmbH, Kassel", "10 Stück Heizregler HR-4"]


def test_a_text_pdf_is_read_from_its_text_layer_in_reading_order_with_word_boxes():
    doc = read_file("lieferschein.pdf", text_pdf(LINES))
    assert doc.kind == "pdf" and doc.text == "\n".join(LINES)
    [page] = doc.pages
    assert page.method == "text_layer" and page.ocr_confidence is None
    words = doc.layer.words(0)
    assert [w.text for w in words][:3] == ["Lieferschein", "Nr.", "LS-2025-0815"]
    first, second = words[0], words[1]
    # Boxes in points from the top left corner: the first line stands at y = 780 of 842.
    assert 55 < first.x0 < first.x1 < second.x0 < 200 and 50 < first.top < first.bottom < 70


def test_a_scan_without_text_layer_is_read_by_ocr_with_its_confidence_and_word_boxes():
    scan = scan_of(text_pdf(LINES, size=16), fmt="PNG", dpi=150)
    doc = read_file("scan.png", scan)
    assert doc.kind == "image"
    [page] = doc.pages
    assert page.method == "ocr" and page.ocr_confidence > 70
    assert "Lieferschein" in doc.text and "Heizregler" in doc.text and "LS-2025-0815" in doc.text
    word = next(w for w in doc.layer.words(0) if w.text == "Lieferschein")
    assert 50 < word.x0 < 70 and 50 < word.top < 70 and word.conf > 50  # where it was drawn, in points


def test_a_pdf_page_with_a_broken_text_layer_is_read_by_ocr():
    image = scan_of(text_pdf(LINES, size=16), fmt="PNG", dpi=150)
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    page.drawImage(ImageReader(io.BytesIO(image)), 0, 0, width=A4[0], height=A4[1])
    page.setFont("Helvetica", 1)
    page.drawString(10, 10, "¤¦¨©«¬®¯±´¶¸¤¦¨©«¬®¯±´¶¸¤¦¨©«¬®¯±´¶¸¤¦¨©«¬®¯±´¶¸¤¦¨©«¬®¯±´¶¸¤¦¨©«¬®¯±´¶¸¤¦¨©«¬®¯")
    page.save()
    doc = read_file("kaputt.pdf", buffer.getvalue())
    assert doc.pages[0].method == "ocr" and "Heizregler" in doc.text and "¤" not in doc.text


def test_an_image_only_pdf_is_read_by_ocr():
    doc = read_file("scan.pdf", scan_of(text_pdf(LINES, size=16), fmt="PDF", dpi=150))
    assert doc.kind == "pdf" and doc.pages[0].method == "ocr" and "Lieferschein" in doc.text


def test_an_email_gives_subject_sender_html_body_as_text_and_its_attachments_as_documents():
    attachment = text_pdf(LINES)
    data = mail("Lieferung zu Bestellung 4711", "Guten Tag,\n\nanbei der Lieferschein.\n\nGrüße", html=True,
                attachments=[("lieferschein.pdf", attachment, "application", "pdf"),
                             ("notiz.txt", "Bitte bis Freitag prüfen.".encode(), "text", "plain")])
    doc = read_file("weiterleitung.eml", data)
    assert doc.kind == "email"
    assert doc.mail.subject == "Lieferung zu Bestellung 4711" and doc.mail.sender == "service@metallbau-weber.example"
    assert doc.mail.body == "Guten Tag,\n\nanbei der Lieferschein.\n\nGrüße"  # no markup, no style sheet
    assert [(a.name, a.kind) for a in doc.attachments] == [("lieferschein.pdf", "pdf"), ("notiz.txt", "text")]
    assert doc.attachments[0].text == "\n".join(LINES) and doc.attachments[1].text == "Bitte bis Freitag prüfen."


def test_a_forwarded_mail_is_read_as_a_mail_of_its_own_with_its_attachment():
    inner = mail("Rechnung 4711", "Anbei die Rechnung.", attachments=[("r.pdf", text_pdf(LINES), "application", "pdf")])
    from email import message_from_bytes, policy
    from email.message import EmailMessage

    outer = EmailMessage()
    outer["From"], outer["To"] = "chef@muster.example", "buchhaltung@muster.example"
    outer["Subject"] = "WG: Rechnung 4711"
    outer.set_content("Bitte buchen.")
    outer.add_attachment(message_from_bytes(inner, policy=policy.default))
    doc = read_file("wg.eml", outer.as_bytes())
    assert doc.mail.body == "Bitte buchen." and [a.kind for a in doc.attachments] == ["email"]
    forwarded = doc.attachments[0]
    assert forwarded.mail.subject == "Rechnung 4711" and [a.name for a in forwarded.attachments] == ["r.pdf"]


def test_html_is_converted_without_scripts_styles_or_tags():
    text = html_to_text("<html><head><title>x</title><script>alert(1)</script></head><body><h1>Titel</h1>"
                        "<p>Erste&nbsp;Zeile<br>zweite Zeile</p><ul><li>eins</li><li>zwei</li></ul>"
                        "<table><tr><td>Netto</td><td>100,00</td></tr></table></body></html>")
    assert text == "Titel\n\nErste Zeile\nzweite Zeile\n\n- eins\n- zwei\n\nNetto 100,00"


def test_plain_text_in_utf8_or_windows_1252_and_xml_are_decoded():
    assert read_file("a.txt", "Grüße aus Köln".encode()).text == "Grüße aus Köln"
    assert read_file("a.txt", "Grüße aus Köln".encode("cp1252")).text == "Grüße aus Köln"
    doc = read_file("a.xml", b"<?xml version='1.0'?><r><a>Rechnung</a><b> 4711 </b></r>")
    assert doc.kind == "xml" and doc.text == "Rechnung\n4711"


def test_an_unreadable_file_is_a_reason_not_an_error():
    doc = read_file("kaputt.pdf", b"%PDF-1.4\n garbage")
    assert doc.reasons and "kaputt.pdf" in doc.reasons[0]
    doc = read_file("blob.bin", bytes(range(256)) * 4)
    assert doc.kind == "other" and doc.reasons


def test_input_fields_are_filled_from_a_mail_by_name_and_never_over_a_given_value():
    doc = read_file("m.eml", mail("Betreff", "Text der Nachricht"))
    ticket = [{"name": "subject", "type": "text"}, {"name": "body", "type": "long_text"},
              {"name": "sender_email", "type": "email"}, {"name": "customer_number", "type": "text"}]
    assert fill_input_fields(ticket, {}, [doc]) == {
        "subject": "Betreff", "body": "Text der Nachricht", "sender_email": "service@metallbau-weber.example"}
    assert "subject" not in fill_input_fields(ticket, {"subject": "gegeben"}, [doc])
    classify = [{"name": "text", "type": "long_text"}]
    assert fill_input_fields(classify, {}, [doc]) == {"text": "Betreff\n\nText der Nachricht"}
    letter = read_file("brief.txt", b"Erste Zeile\nZweite Zeile\nDritte")
    assert fill_input_fields(ticket, {}, [letter]) == {"subject": "Erste Zeile", "body": "Zweite Zeile\nDritte"}
