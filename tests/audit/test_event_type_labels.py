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
