"""One task: the document beside the suggested fields, the item's history, and the decision (by button
or keyboard), then straight on to the next task. Claim and release. Every flow is a plain form post
with a redirect; reviews/static/reviews/review.js only adds the keyboard."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automations.choices import RiskTier
from automations.documents.selectors import item_document_list
from automations.documents.sources import value_boxes
from automations.execution.selectors import work_item_identities
from automations.execution.services.intake import ensure_may_read
from automations.fields import engine_label, field_label, format_value
from portal.files import page_token
from portal.views import call_service
from reviews import selectors, services
from reviews.choices import OPEN_TASK_STATES, DecisionAction, QueueKind, TaskState
from reviews.forms import FIELD_PREFIX, DecisionForm, display_value
from reviews.services import field_diff
from reviews.views.base import ReviewView, get_or_404, report_error
from reviews.views.documents import MAX_PAGES, AttachmentView, document_view
from reviews.views.queues import claim_next_redirect

# (key, what it does) — shown on the page and in the help overlay.
SHORTCUTS = [
    ("a", gettext_lazy("Approve as suggested, only when nothing was changed (in a second review: confirm)")),
    ("c", gettext_lazy("Save corrections")),
    ("r", gettext_lazy("Reject (with a reason)")),
    ("e", gettext_lazy("Escalate (with a reason)")),
    ("k", gettext_lazy("Ask for clarification (with what is missing)")),
    ("s", gettext_lazy("Skip: the task goes to the back of the queue for you, the next one opens")),
    ("n", gettext_lazy("Next task")),
    ("1 … 9", gettext_lazy("Go to field 1 … 9; two digits quickly for field 10 and beyond")),
    ("↑ ↓", gettext_lazy("Previous or next field")),
    ("Esc", gettext_lazy("Leave the field (shortcuts work again)")),
    ("g", gettext_lazy("Go to the comment")),
    ("?", gettext_lazy("Show or hide this help")),
]
# Audit events shown in the item's history, with a readable label; the others (run started and
# finished, task created and decided) are shown by the run, task and decision entries themselves.
EVENT_LABELS = {
    "work_item.received": gettext_lazy("Received"),
    "work_item.routed": gettext_lazy("Routed by thresholds"),
    "review_task.claimed": gettext_lazy("Taken"),
    "review_task.released": gettext_lazy("Given back to the queue"),
    "review_task.claim_expired": gettext_lazy("Claim expired, back in the queue"),
    "work_item.finalised": gettext_lazy("Final: available to target systems"),
    "work_item.acknowledged": gettext_lazy("Taken by a target system"),
    "escalation.created": gettext_lazy("Escalation opened"),
    "labelled_example.created": gettext_lazy("Became a labelled example for training"),
}
HIDDEN_EVENTS = {"run.started", "run.finished", "review_task.created", "review_task.decided"}
REASON_ACTIONS = (DecisionAction.REJECT, DecisionAction.ESCALATE, DecisionAction.CLARIFY)


def _mode(task, user, now) -> str:
    """work: the user holds it; take: the user may claim it; view: read only."""
    holds = task.claimed_by_id == user.pk and task.claim_expires_at and task.claim_expires_at >= now
    if task.state in OPEN_TASK_STATES and holds:
        return "work"
    if task.state not in OPEN_TASK_STATES:
        return "view"
    if task.claimed_by_id and task.claim_expires_at and task.claim_expires_at >= now:
        return "view"
    if task.state == TaskState.AWAITING_SECOND_REVIEW and task.first_reviewer_id == user.pk:
        return "view"
    return "take"


def _values(task, first_decision) -> dict:
    """What the inputs start with: the suggestions, or in a second review the first reviewer's values."""
    values = {name: (spec or {}).get("value") for name, spec in task.item.fields.items()}
    if task.state == TaskState.AWAITING_SECOND_REVIEW and first_decision is not None:
        values.update(first_decision.final_fields)
    return values


def _thresholds(item) -> dict:
    release = item.release
    if release is None or release.threshold_set_id is None:
        return {}
    return release.threshold_set.thresholds or {}


def _field_rows(form, item, first_decision) -> list[dict]:
    rows = []
    thresholds = _thresholds(item)
    item_reasons = [str(r) for r in item.reasons]
    currency = (item.fields.get("currency") or {}).get("value")
    for index, spec in enumerate(form.specs, start=1):
        name = spec["name"]
        suggestion = item.fields.get(name) or {}
        confidence = suggestion.get("confidence")
        reasons = list(suggestion.get("reasons") or [])
        # Item-level messages that name the field ("iban: …") belong beside it as well.
        label = field_label(spec)
        reasons += [r for r in item_reasons if (r.startswith((f"{name}:", f"{label}:")))
                    and r not in reasons]
        first_value = (first_decision.final_fields.get(name) if first_decision is not None else None)
        rows.append({
            "index": index, "name": name, "spec": spec, "field": form[FIELD_PREFIX + name],
            "suggested": display_value(suggestion.get("value")), "has_suggestion": "value" in suggestion,
            "confidence": confidence, "percent": round(float(confidence) * 100) if confidence is not None else None,
            "level": _level(confidence, thresholds.get(name)), "explanation": suggestion.get("explanation") or "",
            "auto_percent": _percent((thresholds.get(name) or {}).get("auto")),
            "engine": engine_label(suggestion.get("engine")) if suggestion.get("engine") else "",
            "reasons": reasons, "label": label, "help": form[FIELD_PREFIX + name].help_text,
            "shown": format_value(spec, suggestion.get("value"), currency=currency),
            "decided_by": suggestion.get("decided_by") or "", "required": bool(spec.get("required")),
            "first_changed": first_decision is not None and name in first_decision.diff,
            "first_value": display_value(first_value),
        })
    return rows


def _read_documents(item) -> dict[int, list]:
    """What the document stage read of each of the item's files, in reading order: {file id: [ItemDocument,
    ...]} (an e-mail first, then its attachments)."""
    out: dict[int, list] = {}
    for doc in item_document_list(item=item):
        if doc.file_id:
            out.setdefault(doc.file_id, []).append(doc)
    return out


def _how_read(pages: list) -> list[dict]:
    """Per page how it was read: text layer, or OCR with its mean word confidence."""
    return [{"number": p.number, "method": p.get_method_display(), "ocr": p.method == "ocr",
             "confidence": round(p.ocr_confidence) if p.ocr_confidence is not None else None} for p in pages]


def _attachment_view(task, item_file, doc, fields: list[dict], token: str) -> AttachmentView:
    pages = list(doc.pages.all())
    marks = _value_marks(fields, pages)
    view = AttachmentView(name=doc.name, kind=doc.kind, pages=len(pages), read_pages=_how_read(pages),
                          read_text=doc.text if any(p.method == "ocr" for p in pages) else "")
    view.page_items = [
        {"url": reverse("reviews:task-document-page", args=[task.pk, item_file.pk, doc.pk, n]) + f"?v={token}",
         "number": n, "marks": marks.get(n, [])}
        for n in range(1, min(len(pages), MAX_PAGES) + 1)]
    return view


def _value_marks(fields: list[dict], pages: list) -> dict[int, list[dict]]:
    """Where each suggested value was read on a file's pages: {page number: [{field, left, top, width,
    height} in percent of the page]}, for the boxes the review page draws over the page images."""
    if not pages:
        return {}
    words = [(p.number, p.words) for p in pages]
    sizes = {p.number: (p.width or 1.0, p.height or 1.0) for p in pages}
    marks: dict[int, list[dict]] = {}
    for row in fields:
        if not row["has_suggestion"]:
            continue
        source = value_boxes(row["name"], row["suggested"], row["explanation"], words)
        if source is None:
            continue
        width, height = sizes[source.page]
        for x0, top, x1, bottom in source.boxes:
            marks.setdefault(source.page, []).append({
                "field": row["name"], "left": round(100 * x0 / width, 2), "top": round(100 * top / height, 2),
                "width": round(100 * (x1 - x0) / width, 2), "height": round(100 * (bottom - top) / height, 2)})
    return marks


def _percent(value) -> int | None:
    try:
        return max(0, min(100, round(float(value) * 100)))
    except (TypeError, ValueError):
        return None


def _level(confidence, threshold: dict | None = None) -> str:
    """high: at or above the release's "automatic" threshold; low: below its "reject" threshold."""
    if confidence is None:
        return "none"
    confidence = float(confidence)
    auto = float((threshold or {}).get("auto", 0.9))
    reject = float((threshold or {}).get("reject", 0.5))
    return "high" if confidence >= auto else "medium" if confidence >= reject else "low"


def _payload_rows(item) -> list[dict]:
    specs = {s["name"]: s for s in item.use_case.input_fields}
    rows = []
    for name in list(specs) + sorted(k for k in item.payload if k not in specs):
        if name not in item.payload:
            continue
        value = item.payload[name]
        spec = specs.get(name, {})
        text = value if isinstance(value, str) else display_value(value)
        rows.append({"name": name, "label": field_label(spec, name), "value": text,
                     "long": spec.get("type") == "long_text" or len(text) > 120,
                     "email": spec.get("type") == "email", "personal": bool(spec.get("personal_data"))})
    return rows


def _first_decision(task):
    """In a second review: the decision waiting for confirmation."""
    if task.state != TaskState.AWAITING_SECOND_REVIEW:
        return None
    return task.decisions.order_by("-created_at", "-pk").first()


def _timeline(task) -> list[dict]:
    entries = []
    specs = {s.get("name"): s for s in task.item.use_case.output_fields}
    for entry in selectors.review_task_timeline(task=task):
        if entry["kind"] == "decision":
            entry["changes"] = [
                (field_label(specs.get(name), name), format_value(specs.get(name), (change or {}).get("suggested")),
                 format_value(specs.get(name), (change or {}).get("final")))
                for name, change in (entry["decision"].diff or {}).items()]
        if entry["kind"] == "event":
            if entry["event"].event_type in HIDDEN_EVENTS:
                continue
            entry["label"] = EVENT_LABELS.get(entry["event"].event_type)
        entries.append(entry)
    return entries


def task_context(request, task, form=None) -> dict:
    now, user, item = timezone.now(), request.user, task.item
    use_case = item.use_case
    first_decision = _first_decision(task)
    mode = _mode(task, user, now)
    if form is None:
        form = DecisionForm(use_case=use_case, values=_values(task, first_decision))
    documents = []
    fields = _field_rows(form, item, first_decision)
    read = _read_documents(item)
    for item_file in selectors.review_task_files(task=task):
        view = document_view(item_file)
        docs = read.get(item_file.pk, [])
        own_pages = [p for d in docs if d.parent_id is None for p in d.pages.all()]
        view.marks = _value_marks(fields, own_pages)
        view.read_pages = _how_read(own_pages)
        if any(p.method == "ocr" for p in own_pages):
            view.read_text = next(d.text for d in docs if d.parent_id is None)
        token = page_token(user, item_file)
        view.page_urls = [reverse("reviews:task-file-page", args=[task.pk, item_file.pk, n]) + f"?v={token}"
                          for n in range(1, min(view.pages, MAX_PAGES) + 1)]
        view.page_items = [{"url": url, "number": n, "marks": view.marks.get(n, [])}
                           for n, url in enumerate(view.page_urls, start=1)]
        # An e-mail's attachments with pages (the invoice PDF of a forwarded mail, a scan) are shown page
        # by page with their values marked, like a file uploaded on its own.
        view.attachments = [_attachment_view(task, item_file, d, fields, token) for d in docs
                            if d.parent_id is not None and d.kind in ("pdf", "image")]
        view.url = reverse("reviews:task-file", args=[task.pk, item_file.pk])
        documents.append(view)
    clearance = selectors.review_clearance(tenant=request.tenant, user=user, use_cases=[use_case])[0]
    may_work = selectors.may_work_queue(user=user, queue=task.queue)
    return {
        "task": task, "item": item, "use_case": use_case, "queue": task.queue, "mode": mode, "form": form,
        "fields": fields, "payload": _payload_rows(item),
        "documents": documents, "timeline": _timeline(task),
        "first_decision": first_decision, "second_review": task.state == TaskState.AWAITING_SECOND_REVIEW,
        "four_eyes": use_case.risk_tier == RiskTier.HIGH and task.queue.kind != QueueKind.SAMPLE_CHECK,
        "clearance": clearance, "may_work": may_work, "now": now,
        "identity": work_item_identities(items=[item]).get(item.pk),
        "is_clarification": task.queue.kind == QueueKind.CLARIFICATION,
        "is_sample_check": task.queue.kind == QueueKind.SAMPLE_CHECK,
        "claim_left_minutes": (max(0, int((task.claim_expires_at - now).total_seconds() // 60))
                               if mode == "work" and task.claim_expires_at else None),
        "shortcuts": SHORTCUTS, "overdue": task.due_at < now and task.state in OPEN_TASK_STATES,
    }


class TaskDetailView(ReviewView):
    permission_required = ("reviews.view_reviewtask", "automations.view_workitem")

    def get(self, request, pk: int):
        task = get_or_404(selectors.review_task_get, tenant=request.tenant, user=request.user, pk=pk)
        ensure_may_read(request.user, task.item)
        services.work_item_view_record(actor=request.user, item=task.item)
        return render(request, "reviews/task_detail.html", task_context(request, task))


class TaskClaimView(ReviewView):
    permission_required = "reviews.view_reviewtask"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        task = get_or_404(selectors.review_task_get, tenant=request.tenant, user=request.user, pk=pk)
        return call_service(request, lambda: services.review_task_claim(actor=request.user, task=task),
                            to=reverse("reviews:task-detail", args=[task.pk]))


class TaskReleaseView(ReviewView):
    """Give the task back. It goes to the back of the queue for this clerk (others get it as before); with
    `skip`, the next task opens at once."""

    permission_required = "reviews.view_reviewtask"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        task = get_or_404(selectors.review_task_get, tenant=request.tenant, user=request.user, pk=pk)
        return call_service(request, lambda: services.review_task_release(actor=request.user, task=task),
                            done=lambda _released: self._released(request, task),
                            refused_to=reverse("reviews:task-detail", args=[task.pk]))

    @staticmethod
    def _released(request, task):
        if request.POST.get("skip"):
            messages.info(request, _("Skipped: the task waits at the back of the queue for you."))
            return claim_next_redirect(request, task.queue, after_decision=True)
        messages.info(request, _("The task is back in the queue."))
        return HttpResponseRedirect(reverse("reviews:queue-detail", args=[task.queue_id]))


class TaskDecideView(ReviewView):
    """The decision, then the next task of the same queue."""

    permission_required = ("reviews.view_reviewtask", "automations.view_workitem")
    http_method_names = ["post"]

    def post(self, request, pk: int):
        task = get_or_404(selectors.review_task_get, tenant=request.tenant, user=request.user, pk=pk)
        ensure_may_read(request.user, task.item)
        first = _first_decision(task)
        form = DecisionForm(request.POST, use_case=task.item.use_case, values=_values(task, first))
        if not form.is_valid():
            return self._invalid(request, task, form)
        action, values = form.cleaned_data["action"], form.final_values()
        comment = form.cleaned_data["comment"]
        shown = ({n: {"value": v} for n, v in first.final_fields.items()} if first is not None else task.item.fields)
        if action in (DecisionAction.APPROVE, DecisionAction.CONFIRM) and field_diff(shown, values):
            # "As suggested" confirms what is shown; changed values are saved as a correction (c) only.
            form.add_error(None, _("You changed values: save them as a correction (c), or undo the changes to "
                                   "approve as suggested."))
            return self._invalid(request, task, form)
        if action == DecisionAction.CORRECT and first is not None and not field_diff(shown, values):
            action = DecisionAction.CONFIRM  # nothing changed against the first decision: a confirmation
        if action in (DecisionAction.APPROVE, DecisionAction.CORRECT):
            action = DecisionAction.CORRECT if field_diff(task.item.fields, values) else DecisionAction.APPROVE
        else:
            values = {}
        try:
            decision = services.review_task_decide(actor=request.user, task=task, action=action, final_values=values,
                                                   comment=comment)
        except ValidationError as error:
            form.add_error("comment" if action in REASON_ACTIONS and not comment.strip() else None, error)
            return self._invalid(request, task, form)
        except PermissionDenied as error:
            report_error(request, error)
            return HttpResponseRedirect(reverse("reviews:task-detail", args=[task.pk]))
        task.refresh_from_db()
        messages.success(request, self._done_message(task, decision))
        return claim_next_redirect(request, task.queue, after_decision=True)

    def _invalid(self, request, task, form):
        return render(request, "reviews/task_detail.html", task_context(request, task, form=form), status=400)

    @staticmethod
    def _done_message(task, decision) -> str:
        if task.state == TaskState.AWAITING_SECOND_REVIEW:
            return _("Decided. High risk: the decision waits for a second person before it takes effect.")
        if task.state == TaskState.ESCALATED:
            return _("Escalated to the use case's escalation contact.")
        if task.state == TaskState.CLARIFICATION:
            return _("Sent to the clarification queue.")
        labels = {DecisionAction.APPROVE: _("Approved."), DecisionAction.CORRECT: _("Corrections saved and approved."),
                  DecisionAction.REJECT: _("Rejected.")}
        return labels.get(decision.action, _("Decided."))
