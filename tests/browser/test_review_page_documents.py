"""The review page in real Chromium for documents as they arrive: a forwarded e-mail with the invoice PDF
attached and a scanned invoice (TIFF, read by OCR) are shown as page images, with the suggested IBAN
marked where the page prints it."""
import re

import pytest
from playwright.sync_api import expect

from automations.documents.reading import read_file
from automations.documents.services import item_documents_store
from tests.automations.documents.helpers import mail, scan_of
from tests.browser.conftest import log_in
from tests.reviews.world import attach_file, small_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _store(item, name, data, content_type):
    stored = attach_file(item, name=name, data=data, content_type=content_type)
    item_documents_store(item=item, documents=[read_file(name, data, content_type)], item_files=[stored])


def _open(page, task):
    log_in(page, "clerk")
    page.goto(f"{page.base_url}/reviews/tasks/{task.pk}/")
    expect(page.locator(".doc-page").first).to_be_visible()
    page.wait_for_function("() => [...document.querySelectorAll('.doc-page')].every(i => i.complete)")


def _drawn(page) -> list[int]:
    return page.evaluate("() => [...document.querySelectorAll('.doc-page')].map(i => i.naturalWidth)")


def test_a_forwarded_email_shows_its_invoice_pdf_with_the_iban_marked(browser_page, world):
    task = world["tasks"][0]
    data = mail("WG: Rechnung 2025-1187", "---------- Weitergeleitete Nachricht ----------\nAnbei die Rechnung.",
                attachments=[("rechnung.pdf", small_pdf(), "application", "pdf")])
    _store(task.item, "weitergeleitet.eml", data, "message/rfc822")
    page = browser_page
    _open(page, task)
    expect(page.get_by_text("Anhang: rechnung.pdf")).to_be_visible()
    assert all(width > 500 for width in _drawn(page))
    marks = page.locator('.doc-attachment .value-mark[data-mark-field="iban"]')
    expect(marks).to_have_count(6)
    expect(marks.first).to_be_visible()


def test_a_scanned_invoice_shows_its_page_image_and_ocr_words(browser_page, world):
    task = world["tasks"][0]
    _store(task.item, "scan.tif", scan_of(small_pdf(), fmt="TIFF", dpi=200), "image/tiff")
    page = browser_page
    _open(page, task)
    assert _drawn(page) and all(width > 500 for width in _drawn(page))  # no browser shows a TIFF itself
    expect(page.locator('.value-mark[data-mark-field="iban"]').first).to_be_visible()
    expect(page.locator(".doc-read-how")).to_have_text(re.compile(r"Seite 1: per Texterkennung gelesen"))
