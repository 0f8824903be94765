"""Reads of quality: the figures of a use case over a period (volume, automatic share, correction rate), the
breaker's state, backtests attached to change requests and the periodic reviews; scoped to one tenant."""
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone

from automations.choices import ItemStatus, Label, RunStatus, UseCaseStatus
from automations.execution.models.work import Escalation, StepRun, WorkItem
from automations.quality.choices import ReviewState
from automations.quality.models import QualityBreaker, ThresholdBacktest, UseCaseReview
from automations.registry.models.changes import ChangeRequest
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import change_request_list
from portal.choices import Role
from portal.selectors import roles_of
from reviews.choices import DecisionAction, QueueKind, TaskState
from reviews.models import ReviewDecision, ReviewTask

# Decisions that say whether the suggestion was right: approved as suggested, corrected, or rejected.
JUDGING_ACTIONS = (DecisionAction.APPROVE, DecisionAction.CORRECT, DecisionAction.REJECT)
CORRECTING_ACTIONS = (DecisionAction.CORRECT, DecisionAction.REJECT)
ROUTED_OUTCOMES = (ItemStatus.APPLIED, ItemStatus.REVIEW, ItemStatus.CLARIFICATION)


@dataclass(frozen=True)
class QualityFigures:
    """What a use case did in [start, end): items received, items routed and how (applied automatically,
    review, clarification), the review and sample-check decisions and how many corrected the suggestion."""

    start: str
    end: str
    volume: int
    routed: int
    applied_automatically: int
    to_review: int
    to_clarification: int
    checked: int  # review and sample-check tasks decided (approve, correct, reject)
    corrected: int  # ... of which corrected or rejected
    rejected: int
    escalations: int

    @property
    def automation_share(self) -> float | None:
        return self.applied_automatically / self.routed if self.routed else None

    @property
    def correction_rate(self) -> float | None:
        return self.corrected / self.checked if self.checked else None

    def as_dict(self) -> dict:
        return {**asdict(self), "automation_share": _round(self.automation_share),
                "correction_rate": _round(self.correction_rate)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def route_steps(*, use_case: UseCase, start: datetime, end: datetime, label: str | None = None) -> QuerySet[StepRun]:
    """The routing steps of the use case's real (not dry) runs that finished in [start, end)."""
    qs = StepRun.objects.for_tenant(use_case.tenant).filter(
        step="route", run__item__use_case=use_case, run__item__is_dry_run=False, run__status=RunStatus.SUCCEEDED,
        run__finished_at__gte=start, run__finished_at__lt=end)
    if label:
        qs = qs.filter(run__label=label)
    return qs


def judged_tasks(*, use_case: UseCase, start: datetime, end: datetime) -> QuerySet[ReviewTask]:
    """Review and sample-check tasks of the use case decided in [start, end), each with its last decision's
    action (a second review's decision is the one that counts)."""
    last = ReviewDecision.objects.filter(task=OuterRef("pk")).order_by("-created_at", "-pk").values("action")[:1]
    return (ReviewTask.objects.for_tenant(use_case.tenant)
            .filter(use_case=use_case, queue__kind__in=(QueueKind.REVIEW, QueueKind.SAMPLE_CHECK),
                    state=TaskState.DONE, done_at__gte=start, done_at__lt=end)
            .annotate(last_action=Subquery(last)).filter(last_action__in=JUDGING_ACTIONS))


def quality_figures(*, use_case: UseCase, start: datetime, end: datetime, label: str | None = None) -> QualityFigures:
    """The use case's figures over [start, end), computed from the items, runs and decisions (a few
    aggregate queries). `label` narrows routing to runs of that release label (the breaker: production)."""
    outcomes = {row["outcome"]: row["n"] for row in route_steps(use_case=use_case, start=start, end=end, label=label)
                .values(outcome=KT("details__outcome")).annotate(n=Count("pk")).order_by()}
    judged = judged_tasks(use_case=use_case, start=start, end=end).aggregate(
        checked=Count("pk"), corrected=Count("pk", filter=Q(last_action__in=CORRECTING_ACTIONS)),
        rejected=Count("pk", filter=Q(last_action=DecisionAction.REJECT)))
    volume = WorkItem.objects.for_tenant(use_case.tenant).filter(
        use_case=use_case, is_dry_run=False, created_at__gte=start, created_at__lt=end).count()
    escalations = Escalation.objects.for_tenant(use_case.tenant).filter(
        item__use_case=use_case, created_at__gte=start, created_at__lt=end).count()
    return QualityFigures(
        start=start.isoformat(), end=end.isoformat(), volume=volume,
        routed=sum(outcomes.get(o, 0) for o in ROUTED_OUTCOMES),
        applied_automatically=outcomes.get(ItemStatus.APPLIED, 0), to_review=outcomes.get(ItemStatus.REVIEW, 0),
        to_clarification=outcomes.get(ItemStatus.CLARIFICATION, 0), checked=judged["checked"],
        corrected=judged["corrected"], rejected=judged["rejected"], escalations=escalations)


# --- the circuit breaker ----------------------------------------------------------------------------------

def quality_breaker_get(*, use_case: UseCase) -> QualityBreaker | None:
    return QualityBreaker.objects.for_tenant(use_case.tenant).filter(use_case=use_case).first()


def quality_breaker_list(*, tenant, tripped_only: bool = False) -> QuerySet[QualityBreaker]:
    qs = QualityBreaker.objects.for_tenant(tenant).select_related("use_case")
    if tripped_only:
        qs = qs.filter(tripped=True)
    return qs.order_by("use_case__title")


def use_cases_for_breaker(*, tenant=None) -> QuerySet[UseCase]:
    """Use cases the breaker watches: in production, with a correction-rate or automation-share target."""
    qs = UseCase.objects.filter(status=UseCaseStatus.PRODUCTION, labels__name=Label.PRODUCTION)
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    return qs.filter(Q(quality_targets__has_key="max_correction_rate")
                     | Q(quality_targets__has_key="min_automation_share")).select_related("tenant").distinct()


# --- backtests -------------------------------------------------------------------------------------------

def threshold_backtest_list(*, tenant, change_request=None, use_case=None) -> QuerySet[ThresholdBacktest]:
    qs = ThresholdBacktest.objects.for_tenant(tenant).select_related("use_case", "threshold_set", "change_request")
    if change_request is not None:
        qs = qs.filter(change_request=change_request)
    if use_case is not None:
        qs = qs.filter(use_case=use_case)
    return qs


def threshold_backtest_get(*, tenant, pk: int) -> ThresholdBacktest:
    return threshold_backtest_list(tenant=tenant).get(pk=pk)


# --- periodic reviews ------------------------------------------------------------------------------------

OWNER_FIELDS = ("department_owner", "it_contact", "security_officer", "data_protection_officer")


def use_case_owner_ids(use_case: UseCase) -> set[int]:
    return {getattr(use_case, f"{name}_id") for name in OWNER_FIELDS if getattr(use_case, f"{name}_id")}


def use_case_review_list(*, tenant, use_case: UseCase | None = None, state: str | None = None
                         ) -> QuerySet[UseCaseReview]:
    qs = UseCaseReview.objects.for_tenant(tenant).select_related("use_case", "completed_by", "change_request")
    if use_case is not None:
        qs = qs.filter(use_case=use_case)
    if state:
        qs = qs.filter(state=state)
    return qs


def use_case_review_get(*, tenant, pk: int) -> UseCaseReview:
    return use_case_review_list(tenant=tenant).get(pk=pk)


def use_case_review_due_for(*, use_case: UseCase) -> UseCaseReview | None:
    return use_case_review_list(tenant=use_case.tenant, use_case=use_case, state=ReviewState.DUE).first()


def _owned(qs, *, tenant, user, prefix: str = "use_case__"):
    """Rows of qs about use cases the user owns (or is escalation contact of); the automation lead sees all."""
    if Role.AUTOMATION_LEAD in roles_of(user=user, tenant=tenant):
        return qs
    owned = Q()
    for name in (*OWNER_FIELDS, "escalation_contact"):
        owned |= Q(**{f"{prefix}{name}": user})
    return qs.filter(owned)


def use_case_reviews_due_for_user(*, tenant, user) -> list[UseCaseReview]:
    """Due reviews of the use cases the user owns; every due review for the automation lead."""
    return list(_owned(use_case_review_list(tenant=tenant, state=ReviewState.DUE), tenant=tenant, user=user)
                .order_by("due_on")[:20])


def quality_breakers_tripped_for_user(*, tenant, user) -> list[QualityBreaker]:
    """Switched-off automatic application of the use cases the user owns or is escalation contact of."""
    return list(_owned(quality_breaker_list(tenant=tenant, tripped_only=True), tenant=tenant, user=user)[:20])


def review_change_requests(*, review: UseCaseReview) -> list[ChangeRequest]:
    """The use case's change requests an adjustment may name: those proposed from a month before the review
    became due."""
    since = timezone.make_aware(datetime.combine(review.due_on, time.min)) - timedelta(days=30)
    return list(change_request_list(tenant=review.tenant, use_case=review.use_case).filter(created_at__gte=since)[:50])
