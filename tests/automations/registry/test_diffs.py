"""A change request's difference reads as what changed: a two-value change inside a long record shows the
changed lines with a little context, the rest folded; each line names the field by its label and writes
numbers in the reader's locale."""
from types import SimpleNamespace

from django.utils import translation

from automations.registry.diffs import change_request_item_rows, compact


def test_a_two_value_change_in_a_long_record_is_compact():
    before = {f"field_{n:02d}": {"auto": 0.9, "reject": 0.3} for n in range(30)}
    after = {**before, "field_03": {"auto": 0.85, "reject": 0.3}, "field_19": {"auto": 0.9, "reject": 0.25}}
    with translation.override("en"):
        rows = change_request_item_rows({"item": "thresholds", "before": before, "after": after})
    assert len(rows) == 30  # one line a field
    shown = compact(rows)
    changed = [row for row in shown if row.tag == "change"]
    assert [(row.left, row.right) for row in changed] == [
        ("field_03: applied automatically from 0.9, dropped below 0.3",
         "field_03: applied automatically from 0.85, dropped below 0.3"),
        ("field_19: applied automatically from 0.9, dropped below 0.3",
         "field_19: applied automatically from 0.9, dropped below 0.25")]
    assert len(shown) <= 14
    assert shown[0].tag == "skip" and sum(row.left_number for row in shown if row.tag == "skip") + len(
        [row for row in shown if row.tag != "skip"]) == len(rows)


def test_fields_by_their_labels_and_numbers_in_the_readers_locale():
    use_case = SimpleNamespace(input_fields=[], output_fields=[
        {"name": "gross_total", "type": "decimal", "label": {"de": "Bruttobetrag", "en": "Gross total"}}])
    item = {"item": "thresholds", "before": None, "after": {"gross_total": {"auto": 0.95, "reject": 0.3}}}
    with translation.override("de"):
        rows = change_request_item_rows(item, use_case)
    assert [(row.tag, row.right) for row in rows] == [
        ("insert", "Bruttobetrag: automatisch übernommen ab 0,95, verworfen unter 0,3")]
    targets = {"item": "quality_targets", "before": {"min_precision": {"gross_total": 0.99}},
               "after": {"min_precision": {"gross_total": 0.995}}}
    with translation.override("de"):
        rows = change_request_item_rows(targets, use_case)
    assert [(row.left, row.right) for row in rows] == [("Mindestpräzision Bruttobetrag: 0,99",
                                                        "Mindestpräzision Bruttobetrag: 0,995")]


def test_an_english_label_in_a_field_schema_is_marked_english():
    spec = {"name": "queue", "type": "category", "label": {"de": "Warteschlange", "en": "Queue"},
            "choices": ["technik"], "choice_labels": {"technik": {"de": "Technik", "en": "Technical"}}}
    with translation.override("de"):
        rows = change_request_item_rows({"item": "output_fields", "before": None, "after": [spec]})
    lines = [row.right for row in rows]
    assert lines[0] == "Warteschlange"
    english = [line for line in lines if line.lang == "en"]
    assert [line.strip() for line in english] == ["Bezeichnung (Englisch): Queue", "Englisch: Technical"]
    assert all(line.lang == "" for line in lines if line not in english)


def test_nothing_is_folded_when_nothing_changed_or_all_is_near_a_change():
    rows = change_request_item_rows({"item": "purpose", "before": "a", "after": "b"})
    assert compact(rows) == rows
    same = change_request_item_rows({"item": "purpose", "before": "a\nb", "after": "a\nb"})
    assert compact(same) == same
