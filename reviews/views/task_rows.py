"""The rows of a queue page's task table as HTML, written here rather than in the template language: fifty rows
of variable lookups, filters and an include per row cost the page about a third of its CPU time, format_html
a small part of that. The markup is the one the template had (templates/reviews/queue_detail.html says where
the rows go; an item's identity is automations/work/_identity.html's): tests/reviews/test_task_rows.py renders
both ways and compares. Every value passes through format_html's escaping."""
from django.utils import formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from reviews.choices import TaskState


def identity_html(identity) -> SafeString:
    """automations/work/_identity.html for one item's identity (title fields and file names)."""
    parts, files = identity.parts, identity.files
    html = ""
    if parts:
        html += format_html('<strong class="identity-title">{}</strong>', mark_safe(" · ".join(
            format_html('<span title="{}">{}</span>', label, value) for label, value in parts)))
    if files:
        html += format_html('{}<span class="identity-file">{}</span>', mark_safe("<br>") if parts else "",
                            mark_safe(", ".join(conditional_escape(name) for name in files)))
    if not parts and not files:
        html += format_html('<span class="help">{}</span>', _("no file, no title fields"))
    return format_html('<span class="identity">{}</span>', mark_safe(html))


def task_rows_html(rows: list[dict], *, state: str, bulk: bool) -> SafeString:
    """The table body's rows: `rows` as the queue page prepares them (task, url, label, identity, use case title,
    reasons, overdue, bulk), `state` the listed state (it decides the people columns), `bulk` whether the page
    offers bulk approval (a column of check boxes)."""
    overdue_word, nobody = _("overdue"), _("nobody yet")
    out = []
    for row in rows:
        task, pk = row["task"], str(row["task"].pk)
        identity = row["identity"]
        name = (identity_html(identity) if identity is not None and (identity.parts or identity.files)
                else conditional_escape(row["label"]))
        cells = [format_html('<tr data-task="{}"{}>', pk, mark_safe(' class="row-overdue"') if row["overdue"] else "")]
        if bulk:
            cells.append(format_html(
                '<td><input type="checkbox" name="tasks" value="{}" aria-label="{}" data-bulk-task="{}"></td>',
                pk, _("Choose task %(pk)s") % {"pk": pk}, pk) if row["bulk"] else mark_safe("<td></td>"))
        cells.append(format_html('<td><a href="{}">{}</a><br><span class="help">{} · {}</span></td>',
                                 row["url"], name, row["use_case_title"], row["label"]))
        cells.append(format_html('<td><span class="badge badge-priority badge-priority-{}">{}</span></td>',
                                 task.priority, task.priority))
        due = formats.date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT")
        cells.append(format_html('<td class="nowrap{}">{}{}</td>', " due" if row["overdue"] else "", due,
                                 f" · {overdue_word}" if row["overdue"] else ""))
        reasons = row["reasons"]
        cells.append(format_html('<td class="reasons"><ul class="reason-list">{}{}</ul></td>', mark_safe("".join(
            format_html("<li>{}</li>", reason) for reason in reasons)), mark_safe("<li>…</li>") if row["more_reasons"]
            else "") if reasons else mark_safe('<td class="reasons">—</td>'))
        if state == TaskState.AWAITING_SECOND_REVIEW:
            first = task.first_reviewer.username if task.first_reviewer_id else ""
            cells.append(format_html("<td data-first-reviewer>{}</td>", first or "—"))
        if state != TaskState.OPEN:
            cells.append(format_html("<td>{}</td>", task.claimed_by.username) if task.claimed_by_id
                         else format_html('<td><span class="help">{}</span></td>', nobody))
        cells.append(mark_safe("</tr>"))
        out.append("\n        ".join(cells))
    return mark_safe("\n      ".join(out))
