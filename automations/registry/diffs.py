"""Side-by-side differences on a canonical text rendering: every version, release and change request
value is written out the same way (keys sorted, one JSON value per line block), so two renderings differ
exactly where the content differs."""
import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automations.registry.readable import Line, value_lines, version_lines

PART_LABELS = {"prompt_template": gettext_lazy("Prompt template"), "threshold_set": gettext_lazy("Thresholds"),
               "guardrail_set": gettext_lazy("Guardrails"), "engine_config": gettext_lazy("Engine configuration")}


def render_value(value) -> list[str]:
    """One value as lines: text as it is, everything else as indented JSON with sorted keys."""
    if isinstance(value, str):
        return value.splitlines() or [""]
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str).splitlines()


def render_content(content: dict) -> list[str]:
    """A record's content as lines, field by field in the record's own order."""
    lines = []
    for name, value in content.items():
        rendered = render_value(value)
        if len(rendered) == 1 and not (isinstance(value, str) and "\n" in value):
            lines.append(f"{name}: {rendered[0]}")
        else:
            lines.append(f"{name}:")
            lines.extend(f"    {line}" for line in rendered)
    return lines


def render_version(version) -> list[Line]:
    """A version's content as people read it (labels, names, the locale's numbers): see readable.py."""
    return version_lines(version)


def render_release(release) -> list[str]:
    """A release as the exact versions it bundles, each with its full content."""
    if release is None:
        return []
    parts = [("prompt_template", release.prompt_template), ("threshold_set", release.threshold_set),
             ("guardrail_set", release.guardrail_set)]
    parts += [("engine_config", config) for config in sorted(release.engine_configs.all(), key=lambda c: c.number)]
    lines = []
    for kind, version in parts:
        label = PART_LABELS.get(kind, kind)
        if version is None:
            lines.append(f"[{label}] —")
            continue
        lines.append("[%s]" % (_("%(part)s, version %(n)s") % {"part": label, "n": version.number}))
        lines.extend(f"    {line}" for line in render_version(version))
    return lines


@dataclass(frozen=True)
class DiffRow:
    tag: str  # equal, change, delete, insert
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def side_by_side(left: Sequence[str], right: Sequence[str]) -> list[DiffRow]:
    rows = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [DiffRow("equal", i + 1, left[i], j + 1, right[j]) for i, j in zip(range(i1, i2), range(j1, j2))]
            continue
        lefts, rights = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(lefts), len(rights))):
            i = lefts[k] if k < len(lefts) else None
            j = rights[k] if k < len(rights) else None
            row_tag = "change" if i is not None and j is not None else ("delete" if j is None else "insert")
            rows.append(DiffRow(row_tag, None if i is None else i + 1, "" if i is None else left[i],
                                None if j is None else j + 1, "" if j is None else right[j]))
    return rows


def has_changes(rows: list[DiffRow]) -> bool:
    return any(row.tag != "equal" for row in rows)


def change_request_item_rows(item: dict, use_case=None) -> list[DiffRow]:
    """One entry of a change request's stored difference ({"item", "before", "after"}) side by side, each
    side as people read it (the use case's field labels for its fields)."""
    name = str(item.get("item", ""))
    before = [] if item.get("before") is None else value_lines(name, item.get("before"), use_case)
    after = [] if item.get("after") is None else value_lines(name, item.get("after"), use_case)
    return side_by_side(before, after)


def compact(rows: list[DiffRow], *, context: int = 2) -> list[DiffRow]:
    """Only the changed lines with `context` unchanged lines around them; each longer unchanged run is
    folded into one row (tag "skip", its line count in left_number) so a two-value change reads as two
    values, not as the whole record."""
    if not has_changes(rows):
        return rows
    keep = [False] * len(rows)
    for index, row in enumerate(rows):
        if row.tag != "equal":
            for near in range(max(0, index - context), min(len(rows), index + context + 1)):
                keep[near] = True
    out, skipped = [], 0
    for row, kept in zip(rows, keep):
        if kept:
            if skipped:
                out.append(DiffRow("skip", skipped, "", None, ""))
                skipped = 0
            out.append(row)
        else:
            skipped += 1
    if skipped:
        out.append(DiffRow("skip", skipped, "", None, ""))
    return out
