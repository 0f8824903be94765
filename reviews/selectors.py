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


def cleared_use_case_ids(*, tenant, user) -> set[int]:
    """Use cases whose current briefing the user confirmed and for which a training is recorded."""
    from automations.models import UseCase
    from reviews.briefings import briefing_for
    from reviews.models import BriefingConfirmation, TrainingRecord

    trained = set(TrainingRecord.objects.for_tenant(tenant).filter(user=user).values_list("use_case_id", flat=True))
    confirmed = {}
    for use_case_id, digest in (BriefingConfirmation.objects.for_tenant(tenant).filter(user=user)
                                .values_list("use_case_id", "briefing_hash")):
        confirmed.setdefault(use_case_id, set()).add(digest)
    cleared = set()
    for use_case in UseCase.objects.for_tenant(tenant).filter(pk__in=trained & set(confirmed)):
        if briefing_for(use_case)["hash"] in confirmed[use_case.pk]:
            cleared.add(use_case.pk)
    return cleared
