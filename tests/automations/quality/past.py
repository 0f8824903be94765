"""Constructed past: items as routing left them (run, route step, every engine's suggestions) and the clerks'
decisions on them, taken through the real review services."""
from datetime import timedelta

from django.utils import timezone

from automations.choices import ItemStatus, RunStatus, StepStatus
from automations.models import Run, StepRun, Suggestion, WorkItem
from reviews.choices import DecisionAction, QueueKind
from reviews.services import review_task_claim, review_task_create, review_task_decide


def routed_item(use_case, release, suggestions, *, status=ItemStatus.REVIEW, held_back=False, days_ago=1,
                dry_run=False, n=0):
    """An item routed `days_ago` days ago: suggestions are (field, value, confidence, engine), in engine order."""
    finished = timezone.now() - timedelta(days=days_ago)
    chosen = {}
    for name, value, confidence, engine in suggestions:
        if name not in chosen or confidence > chosen[name]["confidence"]:
            chosen[name] = {"value": value, "confidence": confidence, "engine": engine}
    item = WorkItem.objects.create(tenant=use_case.tenant, use_case=use_case, content_hash=f"past-{n}-{finished}",
                                   payload={"text": f"Beleg {n}"}, status=status, fields=chosen, release=release,
                                   is_dry_run=dry_run)
    run = Run.objects.create(tenant=use_case.tenant, item=item, release=release, label="production",
                             status=RunStatus.SUCCEEDED, started_at=finished, finished_at=finished)
    StepRun.objects.create(tenant=use_case.tenant, run=run, step="route", status=StepStatus.OK,
                           details={"outcome": status, "held_back": held_back})
    for name, value, confidence, engine in suggestions:
        Suggestion.objects.create(tenant=use_case.tenant, run=run, item=item, field=name, value=value,
                                  confidence=confidence, engine=engine)
    return item


def decide(item, clerk, action, final_values=None, kind=QueueKind.REVIEW):
    """A clerk's decision on the item through the review services (claimed, then decided)."""
    task = review_task_create(item=item, kind=kind, reasons=["Prüfen"])
    task = review_task_claim(actor=clerk, task=task)
    comment = "falsch" if action in (DecisionAction.REJECT,) else ""
    return review_task_decide(actor=clerk, task=task, action=action, final_values=final_values or {},
                              comment=comment)
