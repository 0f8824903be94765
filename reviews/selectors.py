"""Reads of review queues and tasks, scoped to a tenant."""
from django.db.models import QuerySet

from reviews.choices import OPEN_TASK_STATES, QueueKind
from reviews.models import ReviewQueue, ReviewTask


def review_queue_list(*, tenant, kind: str | None = None) -> QuerySet[ReviewQueue]:
    qs = ReviewQueue.objects.for_tenant(tenant)
    return qs.filter(kind=kind) if kind else qs


def review_queue_for_use_case(*, use_case, kind: str = QueueKind.REVIEW) -> ReviewQueue | None:
    return ReviewQueue.objects.for_tenant(use_case.tenant).filter(kind=kind, use_cases=use_case).order_by("pk").first()


def review_task_open_for_item(*, item) -> ReviewTask | None:
    return ReviewTask.objects.for_tenant(item.tenant).filter(item=item, state__in=OPEN_TASK_STATES).first()
