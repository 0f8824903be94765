from django.utils import timezone

from automations.choices import ItemStatus
from automations.models import WorkItem
from reviews.choices import QueueKind
from reviews.services import briefing_confirm, review_task_create, review_team_grant, training_record


def make_item(use_case, *, fields=None, status=ItemStatus.REVIEW, n=0):
    return WorkItem.objects.create(tenant=use_case.tenant, use_case=use_case, content_hash=f"h{n}-{timezone.now()}",
                                   payload={"text": f"Beleg {n}"}, status=status,
                                   fields=fields or {"document_class": {"value": "invoice", "confidence": 0.6}})


def make_tasks(use_case, count, kind=QueueKind.REVIEW, priority=3):
    return [review_task_create(item=make_item(use_case, n=i), kind=kind, reasons=["Low confidence"], priority=priority)
            for i in range(count)]


def join_team(clerk, use_case, lead):
    """The lead adds the clerk to the team of the use case's department: they work its queues."""
    review_team_grant(actor=lead, tenant=use_case.tenant, name=use_case.department, user=clerk)


def clear(clerk, use_case, lead):
    """In the use case's team, briefing confirmed and training recorded: the clerk may claim its tasks."""
    join_team(clerk, use_case, lead)
    briefing_confirm(actor=clerk, use_case=use_case)
    training_record(actor=lead, use_case=use_case, user=clerk, topic="Einweisung", held_on=timezone.localdate())
