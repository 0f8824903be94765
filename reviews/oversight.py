"""Oversight evidence (EU AI Act Art. 14 and 26): is the human review real? Per queue, the time people
spend on a task and how often they override the suggestion (a correction or a rejection), and a flag for
rubber-stamping: decisions far faster than the reading time with almost no overrides.

Figures about people are figures about a group: a group with fewer members than the tenant's
`min_group_size` is never shown. Figures per person appear only when the tenant recorded a works
agreement (Betriebsvereinbarung) that allows them."""
from dataclasses import dataclass, field
from datetime import timedelta
from statistics import median

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from automations.registry.selectors import tenant_policy_get
from reviews.choices import DecisionAction
from reviews.models import ReviewDecision
from reviews.selectors import review_queue_list_for_figures
from reviews.services import BULK_COMMENT

# Decisions that say something about the suggestion; escalations and clarifications do not.
JUDGING_ACTIONS = (DecisionAction.APPROVE, DecisionAction.CORRECT, DecisionAction.REJECT)


@dataclass(frozen=True)
class OversightSettings:
    reading_seconds: float  # how long reading a task takes, at least
    fast_share: float  # "far below": a median under this share of the reading time
    max_override_rate: float  # "near zero"
    min_decisions: int  # no flag on fewer decisions than this

    @classmethod
    def from_settings(cls) -> "OversightSettings":
        return cls(reading_seconds=float(getattr(settings, "REVIEW_READING_SECONDS", 30)),
                   fast_share=float(getattr(settings, "REVIEW_RUBBER_STAMP_FAST_SHARE", 0.25)),
                   max_override_rate=float(getattr(settings, "REVIEW_RUBBER_STAMP_MAX_OVERRIDE_RATE", 0.02)),
                   min_decisions=int(getattr(settings, "REVIEW_RUBBER_STAMP_MIN_DECISIONS", 30)))

    @property
    def fast_ms(self) -> float:
        return self.reading_seconds * 1000 * self.fast_share


@dataclass
class Figures:
    decisions: int = 0
    people: int = 0
    overrides: int = 0
    bulk: int = 0
    median_ms: float | None = None
    hidden: bool = False  # fewer people than the smallest group shown
    rubber_stamping: bool = False

    @property
    def override_rate(self) -> float | None:
        return self.overrides / self.decisions if self.decisions else None


@dataclass
class QueueOversight:
    queue: object
    figures: Figures
    people: list = field(default_factory=list)  # [(username, Figures)] with a works agreement only


@dataclass
class OversightReport:
    since: object
    until: object
    min_group_size: int
    per_person_allowed: bool
    works_agreement_reference: str
    settings: OversightSettings
    queues: list[QueueOversight] = field(default_factory=list)
    total: Figures | None = None


def _figures(rows: list[tuple], config: OversightSettings, min_group: int, *, group: bool = True) -> Figures:
    """rows: (actor_id, time_on_task_ms, overridden, bulk)."""
    people = {r[0] for r in rows}
    figures = Figures(decisions=len(rows), people=len(people), overrides=sum(1 for r in rows if r[2]),
                      bulk=sum(1 for r in rows if r[3]))
    if group and figures.people < min_group:
        return Figures(people=figures.people, hidden=True)
    times = [r[1] for r in rows if not r[3]]  # bulk approvals have no reading time of their own
    figures.median_ms = median(times) if times else None
    figures.rubber_stamping = bool(
        figures.decisions >= config.min_decisions and figures.median_ms is not None
        and figures.median_ms < config.fast_ms and (figures.override_rate or 0) <= config.max_override_rate)
    return figures


def oversight_report(*, tenant, days: int = 90, now=None, config: OversightSettings | None = None) -> OversightReport:
    now = now or timezone.now()
    config = config or OversightSettings.from_settings()
    policy = tenant_policy_get(tenant=tenant)
    min_group = max(1, int(policy.min_group_size or 1))
    per_person = bool((policy.works_agreement_reference or "").strip())
    since = now - timedelta(days=days)
    overridden = ExpressionWrapper(Q(action=DecisionAction.REJECT) | ~Q(diff={}), output_field=BooleanField())
    bulk = ExpressionWrapper(Q(comment=BULK_COMMENT), output_field=BooleanField())
    rows = (ReviewDecision.objects.for_tenant(tenant)
            .filter(created_at__gte=since, created_at__lte=now, action__in=JUDGING_ACTIONS)
            .annotate(overridden=overridden, bulk=bulk)
            .values_list("task__queue_id", "actor_id", "actor__username", "time_on_task_ms", "overridden", "bulk"))
    by_queue: dict[int, list] = {}
    names: dict[int, str] = {}
    for queue_id, actor_id, username, ms, over, is_bulk in rows.iterator():
        by_queue.setdefault(queue_id, []).append((actor_id, ms, bool(over), bool(is_bulk)))
        names[actor_id] = username
    report = OversightReport(since=since, until=now, min_group_size=min_group, per_person_allowed=per_person,
                             works_agreement_reference=policy.works_agreement_reference, settings=config)
    for queue in review_queue_list_for_figures(tenant=tenant).order_by("name"):
        queue_rows = by_queue.get(queue.pk, [])
        entry = QueueOversight(queue=queue, figures=_figures(queue_rows, config, min_group))
        if per_person and not entry.figures.hidden:
            for actor_id in sorted({r[0] for r in queue_rows}, key=lambda a: names[a]):
                own = [r for r in queue_rows if r[0] == actor_id]
                entry.people.append((names[actor_id], _figures(own, config, min_group, group=False)))
        report.queues.append(entry)
    report.total = _figures([r for rs in by_queue.values() for r in rs], config, min_group)
    return report
