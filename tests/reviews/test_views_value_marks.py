"""The review page marks on the page image where a suggested value was read (the word boxes the document
stage kept), and only there."""
import re

import pytest
from django.urls import reverse

from automations.documents.reading import read_file
from automations.documents.services import item_documents_store
from tests.access import login
from tests.automations.documents.helpers import mail, scan_of
from tests.reviews.world import attach_file, small_pdf

pytestmark = pytest.mark.django_db


def test_the_iban_is_marked_where_the_page_prints_it(client, world):
    task = world["tasks"][0]
    data = small_pdf()
    stored = attach_file(task.item, data=data)
    item_documents_store(item=task.item, documents=[read_file(stored.name, data, "application/pdf")],
                         item_files=[stored])
    login(client, world["team"]["automation_lead"], world["tenant"])
    page = client.get(reverse("reviews:task-detail", args=[task.pk])).content.decode()
    marks = re.findall(r'<span class="value-mark" data-mark-field="(\w+)"[^>]*style="left: ([\d.]+)%; '
                       r'top: ([\d.]+)%; width: ([\d.]+)%; height: ([\d.]+)%"', page)
    # The IBAN is printed in groups at x = 72 pt, 112 pt from the top of an A4 page (595 x 842 pt): its
    # boxes start after the word "IBAN" on that line and cover its six groups.
    iban = [tuple(map(float, m[1:])) for m in marks if m[0] == "iban"]
    assert len(iban) == 6
    assert all(9 < top < 15 for _left, top, _w, _h in iban)
    assert min(left for left, *_ in iban) > 100 * 72 / 595
    assert max(left + width for left, _t, width, _h in iban) < 60
    # The document class is not printed on the page: no mark for it.
    assert "document_class" not in {m[0] for m in marks}
    assert 'class="doc-page-wrap" data-page="1"' in page


def test_without_a_read_document_there_are_no_marks(client, world):
    task = world["tasks"][0]
    attach_file(task.item)
    login(client, world["team"]["automation_lead"], world["tenant"])
    page = client.get(reverse("reviews:task-detail", args=[task.pk])).content.decode()
    assert 'class="doc-page-wrap"' in page and "value-mark" not in page


def _marks(page: str) -> list[tuple[str, float, float, float, float]]:
    return [(m[0], *map(float, m[1:])) for m in re.findall(
        r'<span class="value-mark" data-mark-field="(\w+)"[^>]*style="left: ([\d.]+)%; top: ([\d.]+)%; '
        r'width: ([\d.]+)%; height: ([\d.]+)%"', page)]


def _store(item, name, data, content_type):
    stored = attach_file(item, name=name, data=data, content_type=content_type)
    item_documents_store(item=item, documents=[read_file(stored.name, data, content_type)], item_files=[stored])
    return stored


def test_a_pdf_attached_to_an_email_is_shown_page_by_page_with_its_values_marked(client, world):
    task = world["tasks"][0]
    data = mail("Rechnung 2025-1187", "Anbei unsere Rechnung.", attachments=[
        ("notiz.txt", b"Bitte bis Freitag zahlen.", "text", "plain"),
        ("rechnung.pdf", small_pdf(pages=2), "application", "pdf")])
    stored = _store(task.item, "weitergeleitet.eml", data, "message/rfc822")
    login(client, world["team"]["automation_lead"], world["tenant"])
    page = client.get(reverse("reviews:task-detail", args=[task.pk])).content.decode()
    # The mail's text, then its PDF attachment with both pages as images; the IBAN is marked where the page
    # prints it, just as for the PDF uploaded on its own (six groups at 112 pt from the top).
    assert "Anbei unsere Rechnung." in page and 'data-attachment="rechnung.pdf"' in page
    urls = re.findall(r'<img class="doc-page" src="([^"]+)"', page)
    assert len(urls) == 2 and all(f"/files/{stored.pk}/documents/" in u for u in urls)
    iban = [m for m in _marks(page) if m[0] == "iban"]
    assert len(iban) == 6 and all(9 < top < 15 for _f, _l, top, _w, _h in iban)
    assert "Seite 1: Textebene" in page and "Anhang: rechnung.pdf" in page
    # The page images are the attachment's pages drawn as PNG (taken from the stored mail again); the
    # text attachment has no pages and no such URL.
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert response.content.startswith(b"\x89PNG") and response["X-Content-Type-Options"] == "nosniff"
    assert client.get(urls[0].replace("/pages/1.png", "/pages/3.png")).status_code == 404


def test_an_attachment_page_through_another_task_or_of_the_mail_itself_is_not_found(client, world):
    # Another tenant's and the roles' refusals: tests/reviews/test_views_access.py.
    task, other_task = world["tasks"][0], world["tasks"][1]
    data = mail("Rechnung", "Anbei.", attachments=[("rechnung.pdf", small_pdf(), "application", "pdf")])
    stored = _store(task.item, "mail.eml", data, "message/rfc822")
    from automations.documents.selectors import item_document_list

    attachment = item_document_list(item=task.item)[1]
    login(client, world["team"]["automation_lead"], world["tenant"])
    ok = reverse("reviews:task-document-page", args=[task.pk, stored.pk, attachment.pk, 1])
    assert client.get(ok).status_code == 200
    # The same document through another task, and the mail itself (no parent), are not pages to draw.
    assert client.get(reverse("reviews:task-document-page",
                              args=[other_task.pk, stored.pk, attachment.pk, 1])).status_code == 404
    assert client.get(reverse("reviews:task-document-page",
                              args=[task.pk, stored.pk, attachment.pk - 1, 1])).status_code == 404


def test_a_tiff_scan_is_drawn_as_pages_with_the_ocr_words_marked(client, world):
    task = world["tasks"][0]
    data = scan_of(small_pdf(), fmt="TIFF", dpi=200)
    stored = _store(task.item, "scan.tif", data, "image/tiff")
    login(client, world["team"]["automation_lead"], world["tenant"])
    page = client.get(reverse("reviews:task-detail", args=[task.pk])).content.decode()
    urls = re.findall(r'<img class="doc-page" src="([^"]+)"', page)
    assert len(urls) == 1 and f"/files/{stored.pk}/pages/1.png" in urls[0]
    response = client.get(urls[0])
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    # The IBAN read by OCR is marked where the scan shows it; the page says it was read by OCR.
    iban = [m for m in _marks(page) if m[0] == "iban"]
    assert iban and all(9 < top < 15 for _f, _l, top, _w, _h in iban)
    assert "Seite 1: per Texterkennung gelesen" in page and "Per Texterkennung gelesener Text" in page
    assert "2025-1187" in page  # the words OCR read
