"""The clerk's screen speaks German, not the data model: field labels and help from the use case's field
schema, choice labels, amounts and dates in the locale, engines by name, the item's input by label."""
import pytest
from django.urls import reverse

from reviews.choices import DecisionAction
from tests.access import login
from tests.automations.factories import make_use_case
from tests.reviews.factories import clear
from tests.reviews.world import make_review_tasks

pytestmark = pytest.mark.django_db

OUTPUTS = [
    {"name": "document_type", "type": "category", "choices": ["invoice", "credit_note"],
     "label": {"de": "Belegart", "en": "Document type"},
     "choice_labels": {"invoice": {"de": "Rechnung", "en": "Invoice"},
                       "credit_note": {"de": "Gutschrift", "en": "Credit note"}}},
    {"name": "gross_total", "type": "decimal", "label": {"de": "Bruttobetrag", "en": "Gross total"},
     "help": {"de": "Rechnungsbetrag mit Umsatzsteuer.", "en": "Invoice total with VAT."}, "title": True},
    {"name": "issue_date", "type": "date", "label": {"de": "Rechnungsdatum", "en": "Issue date"}},
]
INPUTS = [{"name": "text", "type": "long_text", "label": {"de": "Belegtext", "en": "Document text"}}]
FIELDS = {
    "document_type": {"value": "invoice", "confidence": 0.62, "engine": "invoice", "explanation": "XML", "reasons": []},
    "gross_total": {"value": "260.20", "confidence": 0.7, "engine": "invoice", "explanation": "XML", "reasons": []},
    "issue_date": {"value": "2026-12-01", "confidence": 0.99, "engine": "invoice", "explanation": "XML",
                   "reasons": []},
}


@pytest.fixture
def labelled(world):
    team = world["team"]
    use_case = make_use_case(world["tenant"], team["automation_lead"], key="rechnungen", input_fields=INPUTS,
                             output_fields=OUTPUTS)
    clear(team["clerk"], use_case, team["automation_lead"])
    task = make_review_tasks(use_case, 1, fields=FIELDS, payload={"text": "Rechnung 1"}, reasons=[])[0]
    return {"use_case": use_case, "task": task}


def test_the_review_page_shows_labels_choice_labels_and_help_in_german(client, world, labelled):
    login(client, world["team"]["clerk"], world["tenant"])
    task = labelled["task"]
    client.post(reverse("reviews:task-claim", args=[task.pk]))
    html = client.get(reverse("reviews:task-detail", args=[task.pk])).content.decode()
    assert "Belegart" in html
    assert "Bruttobetrag" in html and "Rechnungsbetrag mit Umsatzsteuer." in html and "Rechnungsdatum" in html
    assert '<option value="invoice" selected>Rechnung</option>' in html
    assert '<option value="credit_note">Gutschrift</option>' in html
    assert "Belegtext" in html
    assert "gross_total" not in _visible_text(html) and "document_type" not in _visible_text(html)


def test_the_review_page_in_english(client, world, labelled, settings):
    login(client, world["team"]["clerk"], world["tenant"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("reviews:task-detail", args=[labelled["task"].pk])).content.decode()
    assert "Gross total" in html and "Invoice total with VAT." in html and ">Invoice</option>" in html


def test_a_correction_still_stores_the_choice_value_not_its_label(client, world, labelled):
    login(client, world["team"]["clerk"], world["tenant"])
    task = labelled["task"]
    client.post(reverse("reviews:task-claim", args=[task.pk]))
    client.post(reverse("reviews:task-decide", args=[task.pk]), {
        "action": "correct", "comment": "", "f_document_type": "credit_note", "f_gross_total": "260.20",
        "f_issue_date": "2026-12-01"})
    decision = task.decisions.get()
    assert decision.action == DecisionAction.CORRECT and decision.final_fields["document_type"] == "credit_note"
    task.item.refresh_from_db()
    html = client.get(reverse("work:item-detail", args=[task.item.pk])).content.decode()
    assert "Belegart" in html and "Gutschrift" in html and "260,20 €" in html and "01.12.2026" in html


def _visible_text(html: str) -> str:
    """The page's text without tags and attribute values (names may stay in ids and form names)."""
    import re
    return re.sub(r"<[^>]+>", " ", html)


def test_queue_and_task_name_the_item_not_only_its_number(client, world, labelled):
    login(client, world["team"]["clerk"], world["tenant"])
    task = labelled["task"]
    page = client.get(reverse("reviews:queue-detail", args=[task.queue_id])).content.decode()
    assert "260,20 €" in page and "Bruttobetrag" in page
    detail = client.get(reverse("reviews:task-detail", args=[task.pk])).content.decode()
    assert "<h1>260,20 €" in detail


def test_the_briefing_names_thresholds_by_field_label(client, world, labelled):
    from tests.automations.factories import go_live
    go_live(labelled["use_case"], world["team"])
    login(client, world["team"]["clerk"], world["tenant"])
    page = client.get(reverse("reviews:briefing", args=["rechnungen"])).content.decode()
    assert "Belegart: automatisch übernommen ab 90 %, nicht vertraut unter 30 %" in page
