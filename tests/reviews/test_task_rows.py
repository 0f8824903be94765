"""The queue page's rows are written in Python (reviews/views/task_rows.py): the same markup as the templates
they replace, every value escaped, the columns each state shows, German texts."""
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from automations.execution.selectors import ItemIdentity
from reviews.choices import TaskState
from reviews.views.task_rows import identity_html, task_rows_html

IDENTITIES = [
    ItemIdentity(parts=[("Rechnungsnummer", "R-1187"), ("Lieferant", "Müller & Söhne <GmbH>")]),
    ItemIdentity(files=["rechnung.pdf", "anlage \"2\".pdf"]),
    ItemIdentity(parts=[("Kunde", "K-7")], files=["brief.pdf"]),
    ItemIdentity(),
]


def _squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", str(html))).strip()


@pytest.mark.parametrize("identity", IDENTITIES, ids=["parts", "files", "both", "nothing"])
def test_an_identity_reads_as_the_shared_template_writes_it(identity):
    with translation.override("de"):
        expected = render_to_string("automations/work/_identity.html", {"identity": identity})
        assert _squeeze(identity_html(identity)) == _squeeze(expected)


def _row(pk=7, *, overdue=False, reasons=("Niedrige Konfidenz",), more=False, identity=None, bulk=False,
         claimed_by=None, first_reviewer=None):
    def user(name):
        return SimpleNamespace(pk=1, username=name) if name else None

    task = SimpleNamespace(pk=pk, priority=2, due_at=timezone.now() + timedelta(hours=-2 if overdue else 5),
                           claimed_by=user(claimed_by), claimed_by_id=1 if claimed_by else None,
                           first_reviewer=user(first_reviewer), first_reviewer_id=1 if first_reviewer else None)
    return {"task": task, "overdue": overdue, "identity": identity, "url": f"/reviews/tasks/{pk}/",
            "label": f"Aufgabe {pk}", "use_case_title": "Belege <intern>", "reasons": list(reasons),
            "more_reasons": more, "bulk": bulk}


def test_rows_escape_what_they_show_and_say_it_in_german():
    with translation.override("de"):
        html = str(task_rows_html([_row(overdue=True, reasons=["<script>x</script>", "b", "c"], more=True,
                                        identity=IDENTITIES[0], bulk=True), _row(8)],
                                  state=TaskState.OPEN, bulk=True))
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "Belege &lt;intern&gt; · Aufgabe 7" in html and "Müller &amp; Söhne &lt;GmbH&gt;" in html
    assert '<tr data-task="7" class="row-overdue">' in html and '<tr data-task="8">' in html
    assert "· überfällig</td>" in html and html.count("überfällig") == 1
    assert '<li>…</li>' in html
    # Bulk approval: a box for the low-risk row only, labelled for screen readers; an empty cell for the other.
    assert 'aria-label="Aufgabe 7 auswählen" data-bulk-task="7"' in html and 'data-bulk-task="8"' not in html
    assert html.count("<td></td>") == 1
    assert '<a href="/reviews/tasks/8/">Aufgabe 8</a>' in html  # no identity: the task's label


def test_the_people_columns_follow_the_listed_state():
    rows = [_row(claimed_by="clerk_2", first_reviewer="clerk"), _row(8)]
    with translation.override("de"):
        open_rows = str(task_rows_html(rows, state=TaskState.OPEN, bulk=False))
        claimed = str(task_rows_html(rows, state=TaskState.CLAIMED, bulk=False))
        second = str(task_rows_html(rows, state=TaskState.AWAITING_SECOND_REVIEW, bulk=False))
    assert "clerk_2" not in open_rows and "data-first-reviewer" not in open_rows
    assert "<td>clerk_2</td>" in claimed and '<span class="help">noch niemand</span>' in claimed
    assert "<td data-first-reviewer>clerk</td>" in second and "<td data-first-reviewer>—</td>" in second
