"""Fields as people read them: labels and help per language, choice labels, title fields, values in the
reader's locale."""
from django.utils import translation

from audit.registry import label as event_type_label
from automations.fields import (
    category_label,
    choice_label,
    choice_options,
    engine_label,
    field_help,
    field_label,
    format_value,
    item_title_parts,
    title_field_names,
)

GROSS = {"name": "gross_total", "type": "decimal", "label": {"de": "Bruttobetrag", "en": "Gross total"},
         "help": {"de": "Mit Umsatzsteuer.", "en": "With VAT."}, "title": True}
KIND = {"name": "document_type", "type": "category", "choices": ["invoice", "credit_note"],
        "choice_labels": {"invoice": {"de": "Rechnung", "en": "Invoice"}}}
DATE = {"name": "issue_date", "type": "date"}


def test_labels_and_help_follow_the_language_and_fall_back_to_the_name():
    with translation.override("de"):
        assert field_label(GROSS) == "Bruttobetrag" and field_help(GROSS) == "Mit Umsatzsteuer."
        assert field_label(DATE) == "issue_date"
        assert choice_label(KIND, "invoice") == "Rechnung" and choice_label(KIND, "credit_note") == "credit_note"
        assert choice_options(KIND) == [("invoice", "Rechnung"), ("credit_note", "credit_note")]
        assert engine_label("invoice") not in ("", "invoice") and engine_label("nope") == "nope"
        assert category_label("bank") == "Bankverbindung" and category_label("own") == "own"
    with translation.override("en"):
        assert field_label(GROSS) == "Gross total" and choice_label(KIND, "invoice") == "Invoice"
    assert field_label({"name": "x", "label": "Nur Deutsch"}) == "Nur Deutsch"


def test_amounts_numbers_and_dates_in_the_readers_locale():
    with translation.override("de"):
        assert format_value(GROSS, "260.2") == "260,20 €"
        assert format_value(GROSS, "12345.5", currency="USD") == "12.345,50 $"
        assert format_value({"name": "share", "type": "decimal"}, "0.25") == "0,25"
        assert format_value(DATE, "2026-12-06") == "06.12.2026"
        assert format_value(KIND, "invoice") == "Rechnung"
        assert format_value(GROSS, "not a number") == "not a number"
    with translation.override("en"):
        assert format_value(GROSS, "260.2") == "260.20 €"
        assert format_value(DATE, "2026-12-06") != "2026-12-06"


def test_title_fields_identify_an_item():
    specs = [KIND, {"name": "seller_name", "type": "text", "label": {"de": "Lieferant"}, "title": True}, GROSS]
    assert title_field_names(specs) == ["seller_name", "gross_total"]
    with translation.override("de"):
        parts = item_title_parts(specs, {"seller_name": {"value": "Muster AG"}, "gross_total": {"value": "260.20"},
                                         "document_type": {"value": "invoice"}})
    assert parts == [("Lieferant", "Muster AG"), ("Bruttobetrag", "260,20 €")]


def test_audit_event_types_read_as_words():
    with translation.override("de"):
        assert event_type_label("user.logged_in") == "Benutzer angemeldet"
        assert event_type_label("work_item.received") == "Vorgang eingegangen"
        assert event_type_label("unknown.thing") == "unknown.thing"
    with translation.override("en"):
        assert event_type_label("user.logged_in") == "User logged in"
