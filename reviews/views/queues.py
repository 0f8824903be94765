"""The clerk's queues: the overview with figures and the clerk's own work today, one queue with filters
and keyset pages, "next task", and bulk approval of low-risk tasks. Thin: reads through
reviews.selectors, writes through reviews.services."""
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.actors import actor_from_request
from automations.registry.selectors import tenant_policy_get
from portal.views import call_service
from reviews import selectors, services
from reviews.choices import QueueKind, TaskState
from reviews.forms import BulkApproveForm, TaskFilterForm
from reviews.views.base import ReviewView, get_or_404
from reviews.views.task_rows import task_rows_html


def gate_reasons(clearances) -> list:
    """Use cases the clerk may not take yet, each with what is missing."""
    return [c for c in clearances if not c.cleared]


def claim_next_redirect(request, queue, *, after_decision: bool = False):
    """The task the clerk already holds in this queue, else the next one; an empty queue (for this
    clerk) leads back to the queue page, which says why."""
    held = selectors.review_task_held(user=request.user, queue=queue)
    if held is not None:
        return HttpResponseRedirect(reverse("reviews:task-detail", args=[held.pk]))
    return call_service(request, lambda: services.review_task_claim_next(actor=request.user, queue=queue),
                        done=lambda task: _claimed(request, queue, task, after_decision=after_decision),
                        refused_to=reverse("reviews:queue-detail", args=[queue.pk]))


def _claimed(request, queue, task, *, after_decision: bool):
    if task is None:
        if after_decision:
            messages.success(request, _("No further task for you in this queue right now."))
        else:
            messages.info(request, _("No task for you in this queue right now."))
        return HttpResponseRedirect(reverse("reviews:queue-detail", args=[queue.pk]) + "?empty=1")
    return HttpResponseRedirect(reverse("reviews:task-detail", args=[task.pk]))


class QueueListView(ReviewView):
    permission_required = "reviews.view_reviewqueue"

    def get(self, request):
        tenant, user, now = request.tenant, request.user, timezone.now()
        kinds = list(QueueKind.values)  # review first, then clarification, then sample checks
        queues = sorted(selectors.review_queue_list(tenant=tenant, user=user).prefetch_related("use_cases"),
                        key=lambda q: (kinds.index(q.kind) if q.kind in kinds else len(kinds), q.name))
        today = selectors.review_work_today(tenant=tenant, user=user, now=now)
        rows = []
        use_cases = {u.pk: u for q in queues for u in q.use_cases.all()}
        clearances = {c.use_case.pk: c for c in selectors.review_clearance(
            tenant=tenant, user=user, use_cases=sorted(use_cases.values(), key=lambda u: u.title))}
        for queue in queues:
            may_work = selectors.may_work_queue(user=user, queue=queue)
            queue_clearances = [clearances[u.pk] for u in queue.use_cases.all()]
            rows.append({"queue": queue, "figures": selectors.review_queue_figures(queue=queue, now=now),
                         "may_work": may_work, "done_today": today["per_queue"].get(queue.pk, 0),
                         "can_claim": may_work and any(c.cleared for c in queue_clearances),
                         "missing": gate_reasons(queue_clearances) if may_work else []})
        return render(request, "reviews/queue_list.html", {
            "rows": rows, "today": today, "now": now,
            "held": selectors.review_tasks_held_list(tenant=tenant, user=user, now=now),
            "kinds": QueueKind,
        })


_PK = 987654321  # a stand-in id: the task page's address is reversed once a page, the id put in per row


class QueueDetailView(ReviewView):
    permission_required = "reviews.view_reviewqueue"

    def get(self, request, pk: int):
        tenant, user, now = request.tenant, request.user, timezone.now()
        queue = get_or_404(selectors.review_queue_get_for_page, tenant=tenant, user=user, pk=pk)
        use_cases = selectors.review_queue_use_cases(queue=queue)
        form = TaskFilterForm(request.GET or None, use_cases=use_cases)
        data = form.cleaned_data if form.is_bound and form.is_valid() else {}
        filters = selectors.TaskFilters(state=data.get("state") or TaskState.OPEN,
                                        use_case_id=data.get("use_case"), search=data.get("q") or "",
                                        priority=data.get("priority"), overdue=bool(data.get("overdue")))
        page = selectors.review_task_page(queue=queue, filters=filters, after=data.get("after"), now=now)
        may_work = queue.may_work
        clearances = (selectors.review_queue_clearance(tenant=tenant, user=user, queue=queue, use_cases=use_cases)
                      if may_work else [])
        bulk = (may_work and queue.bulk_approval_allowed and queue.kind == QueueKind.REVIEW
                and filters.state == TaskState.OPEN and tenant_policy_get(tenant=tenant).bulk_approval_allowed)
        by_id = {u.pk: u for u in use_cases}
        items = selectors.review_items_for_tasks(tasks=page.tasks) if bulk else {}
        cleared = {c.use_case.pk for c in clearances if c.cleared}
        shown = selectors.review_task_items(tasks=page.tasks, use_cases=use_cases)
        identities = selectors.review_task_identities(tasks=page.tasks, use_cases=use_cases, items=shown)
        # The rows name the people the items concern (title fields such as a customer number): one access
        # event for the page.
        services.work_items_view_record(actor=actor_from_request(request), tenant=tenant, items=shown,
                                        purpose="review queue")
        # What each row shows is prepared here, not looked up per row in the template (50 rows: a reverse(), two
        # translations and several filters each cost more than the page's queries).
        task_url = reverse("reviews:task-detail", args=[_PK]).replace(str(_PK), "{}")
        task_label = _("Task %(pk)s")
        titles = {pk: u.title for pk, u in by_id.items()}
        rows = []
        for task in page.tasks:
            use_case = by_id.get(task.use_case_id)
            reasons = task.reasons or []
            rows.append({"task": task, "overdue": task.due_at < now, "identity": identities.get(task.item_id),
                         "url": task_url.format(task.pk), "label": task_label % {"pk": task.pk},
                         "use_case_title": titles.get(task.use_case_id) or "—",
                         "reasons": reasons[:3], "more_reasons": len(reasons) > 3,
                         "bulk": bulk and task.use_case_id in cleared and selectors.review_task_bulk_approvable(
                             task=task, queue=queue, item=items.get(task.item_id), use_case=use_case, user=user)})
        bulk = bulk and any(r["bulk"] for r in rows)
        query = request.GET.copy()
        query.pop("after", None)
        query.pop("empty", None)
        return render(request, "reviews/queue_detail.html", {
            "queue": queue, "use_cases": use_cases, "form": form, "filters": filters, "rows": rows, "page": page,
            "figures": selectors.review_queue_figures(queue=queue, now=now), "may_work": may_work,
            "can_claim": may_work and bool(cleared), "missing": gate_reasons(clearances),
            "held": selectors.review_task_held(user=user, queue=queue, now=now),
            "done_today": selectors.review_work_today(tenant=tenant, user=user, now=now)["per_queue"].get(queue.pk, 0),
            "bulk": bulk, "rows_html": task_rows_html(rows, state=filters.state, bulk=bulk), "query": query.urlencode(),
            "states": [(TaskState.OPEN, _("Open")), (TaskState.CLAIMED, _("In progress")),
                       (TaskState.AWAITING_SECOND_REVIEW, _("Awaiting second review"))],
            "empty_after_next": request.GET.get("empty") == "1",
        })


class QueueNextTaskView(ReviewView):
    permission_required = "reviews.view_reviewtask"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        queue = get_or_404(selectors.review_queue_get, tenant=request.tenant, user=request.user, pk=pk)
        return claim_next_redirect(request, queue)


class QueueBulkApproveView(ReviewView):
    permission_required = "reviews.view_reviewtask"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        queue = get_or_404(selectors.review_queue_get, tenant=request.tenant, user=request.user, pk=pk)
        back = reverse("reviews:queue-detail", args=[queue.pk])
        ids = [int(v) for v in request.POST.getlist("tasks") if v.isdigit()]
        form = BulkApproveForm(request.POST, task_ids=ids)
        if not form.is_valid():
            messages.error(request, _("Choose the tasks to approve."))
            return HttpResponseRedirect(back)
        tasks = selectors.review_task_list_in_queue(queue=queue, pks=form.cleaned_data["tasks"])
        return call_service(
            request, lambda: services.review_tasks_bulk_approve(actor=request.user, queue=queue, tasks=tasks),
            done=lambda outcome: self._approved(request, *outcome, back=back), refused_to=back)

    @staticmethod
    def _approved(request, decisions, skipped, *, back: str):
        if decisions:
            messages.success(request, ngettext("%(n)d task approved as suggested.",
                                               "%(n)d tasks approved as suggested.",
                                               len(decisions)) % {"n": len(decisions)})
        if skipped:
            messages.warning(request, ngettext(
                "%(n)d task was skipped: someone holds it, or it is not low risk.",
                "%(n)d tasks were skipped: someone holds them, or they are not low risk.", len(skipped))
                % {"n": len(skipped)})
        return HttpResponseRedirect(back)
