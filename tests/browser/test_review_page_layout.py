"""The review page on a 1366×768 laptop screen in real headless Chromium: the document and at least six
fields visible without scrolling, a compact decision bar, every one of twelve fields reachable by keyboard,
`a` refusing edited values, and a real skip."""
import re

import pytest
from playwright.sync_api import expect

from reviews.models import ReviewDecision
from tests.automations.factories import make_use_case
from tests.browser.conftest import log_in
from tests.reviews.factories import clear
from tests.reviews.world import attach_file, make_review_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TASK_URL = re.compile(r"/reviews/tasks/(\d+)/$")
NAMES = ["invoice_number", "document_type", "issue_date", "seller_name", "seller_vat_id", "buyer_name", "net_total",
         "tax_total", "gross_total", "amount_due", "currency", "iban"]


def _task_id(page) -> int:
    expect(page).to_have_url(TASK_URL)
    return int(TASK_URL.search(page.url).group(1))


@pytest.fixture
def invoices(world):
    team = world["team"]
    outputs = [{"name": name, "type": "category" if name == "document_type" else "text",
                "label": {"de": f"Feld {n}", "en": f"Field {n}"},
                **({"choices": ["invoice", "credit_note"]} if name == "document_type" else {})}
               for n, name in enumerate(NAMES, start=1)]
    use_case = make_use_case(world["tenant"], team["automation_lead"], key="rechnungen", output_fields=outputs,
                             input_fields=[{"name": "document", "type": "text"}])
    clear(team["clerk"], use_case, team["automation_lead"])
    fields = {name: {"value": "invoice" if name == "document_type" else f"Wert {n}", "confidence": 0.7,
                     "engine": "invoice", "explanation": f"Text auf Seite 1: „Wert {n}“", "reasons": []}
              for n, name in enumerate(NAMES, start=1)}
    tasks = make_review_tasks(use_case, 3, fields=fields, payload={"document": ""}, reasons=["Geringe Sicherheit"])
    for task in tasks:
        attach_file(task.item)
    return tasks


def _inside_viewport(page, selector) -> bool:
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""", selector)


def test_document_and_six_fields_fit_a_laptop_screen_and_every_field_is_reachable(browser_page, world, invoices):
    page = browser_page
    log_in(page, "clerk")
    page.goto(f"{page.base_url}/reviews/queues/{invoices[0].queue_id}/")
    page.keyboard.press("n")
    first = _task_id(page)
    expect(page.locator(".doc-page").first).to_be_visible()
    page.wait_for_function("() => { const i = document.querySelector('.doc-page'); return i && i.complete; }")
    page.screenshot(path="/tmp/review-1366x768.png", full_page=False)
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.querySelector('.doc-page').getBoundingClientRect().top") < 300
    visible = [name for name in NAMES if _inside_viewport(page, f"#field-{name}")]
    assert len(visible) >= 6, visible
    assert _inside_viewport(page, "#decide-approve") and _inside_viewport(page, "#decide-correct")
    bar = page.evaluate("document.querySelector('.decision-bar').getBoundingClientRect().height")
    assert bar <= 110, bar

    page.keyboard.press("1")
    page.keyboard.press("2")  # two digits quickly: field 12
    expect(page.locator("#field-iban")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#field-currency")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    page.keyboard.press("0")
    expect(page.locator("#field-amount_due")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("9")
    expect(page.locator("#field-gross_total")).to_be_focused()
    for expected in ("amount_due", "currency", "iban"):
        page.keyboard.press("ArrowDown")
        expect(page.locator(f"#field-{expected}")).to_be_focused()

    page.keyboard.type("DE02120300000000202051")
    page.keyboard.press("Escape")
    page.keyboard.press("a")  # "as suggested" after an edit: refused, with the way to save it
    expect(page.locator("#edited-hint")).to_be_visible()
    assert _task_id(page) == first and not ReviewDecision.objects.filter(task_id=first).exists()

    page.keyboard.press("s")  # skip: the next task opens, another one
    page.wait_for_url(lambda url: bool(TASK_URL.search(url)) and int(TASK_URL.search(url).group(1)) != first)
    second = _task_id(page)
    page.keyboard.press("a")
    page.wait_for_url(lambda url: bool(TASK_URL.search(url)) and int(TASK_URL.search(url).group(1)) != second)
    assert _task_id(page) not in (first, second)  # the skipped task waits at the back
    assert ReviewDecision.objects.get(task_id=second).action == "approve"
