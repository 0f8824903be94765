"""Every audit event type reads as words in the German and English UI (audit.registry.label), never as its
key: a new type's noun and verb must be listed."""
from django.utils import translation

from audit import registry


def test_every_registered_event_type_has_a_label_in_both_languages():
    unlabelled = [t.key for t in registry.all_types() if registry.label(t.key) == t.key]
    assert unlabelled == []
    with translation.override("de"):
        assert registry.label("work_item.received") == "Vorgang eingegangen"
        assert registry.label("work_items.imported") == "Vorgänge importiert"
    with translation.override("en"):
        assert registry.label("work_items.imported") == "Work items imported"


def test_every_purpose_the_product_records_reads_in_german():
    """Why personal data was opened (an access event's purpose) reads by name in the access log: every purpose
    the product's pages, API and services record (literal arguments and defaults) is listed with a label."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    # Keyword arguments anywhere, and the defaults of the functions that record a look (..._view_record).
    patterns = (re.compile(r'purpose="([^"]+)"'), re.compile(r'def \w+_view_record\([^)]*purpose: str = "([^"]+)"'))
    recorded = {match for app in ("audit", "automations", "reviews", "portal", "leitstand", "operations")
                for path in (root / app).rglob("*.py") if "migrations" not in path.parts
                for pattern in patterns for match in pattern.findall(path.read_text())}
    assert {"evaluation page", "review", "work item page"} <= recorded
    assert sorted(recorded - set(registry.PURPOSES)) == []
    with translation.override("de"):
        assert registry.purpose_label("evaluation page") == "Seite der Auswertung"
        assert registry.purpose_label("review") == "Prüfung"
