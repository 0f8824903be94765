"""Review records as the execution core needs them: queues per use case, tasks from routing, and the
decide service that completes an item. The clerk's workplace builds on these."""
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.services import audit_event_record
from reviews.choices import OPEN_TASK_STATES, DecisionAction, QueueKind, TaskState
from reviews.models import ReviewDecision, ReviewQueue, ReviewTask
from reviews.selectors import review_queue_for_use_case, review_task_open_for_item


def review_queue_ensure(*, use_case, kind: str = QueueKind.REVIEW) -> ReviewQueue:
    """The use case's queue of this kind, created on first need (name from the use case)."""
    queue = review_queue_for_use_case(use_case=use_case, kind=kind)
    if queue is not None:
        return queue
    with transaction.atomic():
        names = {QueueKind.REVIEW: _("Review"), QueueKind.CLARIFICATION: _("Clarification"),
                 QueueKind.SAMPLE_CHECK: _("Sample check")}
        queue = ReviewQueue.objects.create(tenant=use_case.tenant, kind=kind, name=f"{use_case.title} · {names[kind]}",
                                           team=use_case.department,
                                           sla_hours=8 if kind == QueueKind.CLARIFICATION else 24)
        queue.use_cases.add(use_case)
        audit_event_record(actor=None, tenant=use_case.tenant, event_type="review_queue.created", obj=queue,
                           details={"kind": kind, "use_case": use_case.key})
    return queue


def review_task_create(*, item, kind: str, reasons: list[str], priority: int = 3) -> ReviewTask:
    """Inside the routing transaction: one open task per item; a second routing updates its reasons."""
    queue = review_queue_ensure(use_case=item.use_case, kind=kind)
    existing = review_task_open_for_item(item=item)
    if existing is not None:
        existing.reasons, existing.queue = reasons, queue
        existing.save(update_fields=["reasons", "queue"])
        return existing
    task = ReviewTask.objects.create(
        tenant=item.tenant, item=item, queue=queue, reasons=reasons, priority=priority,
        due_at=timezone.now() + timedelta(hours=queue.sla_hours),
        state=TaskState.OPEN,
    )
    audit_event_record(actor=None, tenant=item.tenant, event_type="review_task.created", obj=task,
                       details={"item": str(item.pk), "queue": queue.pk, "kind": kind, "reasons": len(reasons)})
    return task


def field_diff(suggested: dict, final: dict) -> dict:
    diff = {}
    for name in sorted(set(suggested) | set(final)):
        before = (suggested.get(name) or {}).get("value")
        after = final.get(name, before)
        if str(before) != str(after):
            diff[name] = {"suggested": before, "final": after,
                          "confidence": (suggested.get(name) or {}).get("confidence")}
    return diff


def review_task_decide(*, actor, task: ReviewTask, action: str, final_values: dict | None = None,
                       comment: str = "", time_on_task_ms: int = 0) -> ReviewDecision:
    """A person decides: approve as suggested, correct (final values), or reject. The item becomes final
    and pullable by target systems. Needs a person in a browser session (DESIGN.md)."""
    actor = as_actor(actor)
    if not actor.is_person:
        raise PermissionDenied(_("Review tasks are decided by a person in a browser session."))
    if action not in (DecisionAction.APPROVE, DecisionAction.CORRECT, DecisionAction.REJECT):
        raise ValidationError(_("Unknown decision."))
    from automations.services.results import work_item_finalise

    with transaction.atomic():
        task = ReviewTask.objects.select_for_update().get(pk=task.pk)
        if task.state not in OPEN_TASK_STATES:
            raise ValidationError(_("This task is already decided."))
        item = task.item
        final_values = final_values or {}
        unknown = set(final_values) - {f["name"] for f in item.use_case.output_fields}
        if unknown:
            raise ValidationError(_("Not output fields of this use case: %(f)s") % {"f": ", ".join(sorted(unknown))})
        diff = field_diff(item.fields, final_values) if action != DecisionAction.REJECT else {}
        decision = ReviewDecision.objects.create(
            tenant=task.tenant, task=task, item=item, actor=actor.user, action=action,
            final_fields={k: v for k, v in final_values.items()}, diff=diff, comment=comment,
            time_on_task_ms=time_on_task_ms)
        task.state, task.done_at, task.claimed_by, task.claim_expires_at = TaskState.DONE, timezone.now(), None, None
        task.save(update_fields=["state", "done_at", "claimed_by", "claim_expires_at"])
        work_item_finalise(actor=actor, item=item, approved=action != DecisionAction.REJECT,
                           final_values=final_values)
        audit_event_record(actor=actor, tenant=task.tenant, event_type="review_task.decided", obj=task,
                           details={"action": action, "item": str(item.pk), "changed_fields": sorted(diff)})
    return decision
