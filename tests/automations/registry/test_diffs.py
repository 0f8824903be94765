"""A change request's difference reads as what changed: a two-value change inside a long record shows two
changed lines with a little context, the rest folded."""
from automations.registry.diffs import change_request_item_rows, compact


def test_a_two_value_change_in_a_long_record_is_compact():
    before = {f"field_{n:02d}": {"auto": 0.9, "reject": 0.3} for n in range(12)}
    after = {**before, "field_03": {"auto": 0.85, "reject": 0.3}, "field_09": {"auto": 0.9, "reject": 0.25}}
    rows = change_request_item_rows({"item": "thresholds", "before": before, "after": after})
    assert len(rows) > 40
    shown = compact(rows)
    changed = [row for row in shown if row.tag == "change"]
    assert [(row.left.strip(), row.right.strip()) for row in changed] == [
        ('"auto": 0.9,', '"auto": 0.85,'), ('"reject": 0.3', '"reject": 0.25')]
    assert len(shown) <= 14
    assert shown[0].tag == "skip" and sum(row.left_number for row in shown if row.tag == "skip") + len(
        [row for row in shown if row.tag != "skip"]) == len(rows)


def test_nothing_is_folded_when_nothing_changed_or_all_is_near_a_change():
    rows = change_request_item_rows({"item": "purpose", "before": "a", "after": "b"})
    assert compact(rows) == rows
    same = change_request_item_rows({"item": "purpose", "before": "a\nb", "after": "a\nb"})
    assert compact(same) == same
