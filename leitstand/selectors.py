"""Reads of the Leitstand: a day's figures counted from the records (what the daily rows hold), and the report
of a period read from the daily rows, with today counted live. Figures about automation, never about a person.

Every figure counts events of its day in the portal's time zone: items received that day; items that became
final that day (applied automatically, applied after a review, rejected) and their time from receipt; review
decisions taken that day; escalations raised; runs that failed for good; failed pipeline steps; review tasks
open at the day's end (a task that left its queue by escalation or clarification is not counted for the days
before); review tasks due that day and not done in time; the confidence of the suggestions made that day;
delivery attempts that failed, dead letters among the deliveries created that day and deliveries delivered."""
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, F, FloatField, IntegerField, OuterRef, Q, Sum
from django.db.models.functions import Cast, Floor, Least
from django.utils import timezone

from automations.choices import FINAL_ITEM_STATUSES, DeliveryStatus, ItemStatus, PipelineStep, RunStatus, StepStatus
from automations.connectors.models import Delivery, DeliveryAttempt
from automations.execution.models.work import Escalation, Run, StepRun, Suggestion, WorkItem
from automations.fields import field_label
from automations.registry.models.use_cases import UseCase
from leitstand.models import DailyFigures
from reviews.choices import OPEN_TASK_STATES, DecisionAction, QueueKind
from reviews.models import ReviewDecision, ReviewTask

BANDS = 10  # confidence bands of a tenth each
JUDGING = (DecisionAction.APPROVE, DecisionAction.CORRECT, DecisionAction.REJECT)
# Latency histogram: bucket 0 holds everything under LATENCY_FIRST_MS, bucket i ≥ 1 the times in
# [FIRST · RATIO^(i-1), FIRST · RATIO^i): about ±12 % around the middle of a bucket, 90 buckets up to a month.
LATENCY_FIRST_MS = 100
LATENCY_RATIO = 1.25
COUNTS = ("received", "applied_auto", "applied_manual", "rejected", "escalations", "failed", "decisions",
          "corrected", "backlog", "sla_breaches", "delivery_failures", "deliveries_dead", "delivered")


def latency_bucket(ms: float) -> int:
    if ms < LATENCY_FIRST_MS:
        return 0
    return int(math.log(ms / LATENCY_FIRST_MS, LATENCY_RATIO)) + 1


def latency_bucket_value(index: int) -> int:
    """The middle (geometric) of a bucket: what a percentile read from the histogram reports."""
    if index <= 0:
        return LATENCY_FIRST_MS // 2
    return round(LATENCY_FIRST_MS * LATENCY_RATIO ** (index - 0.5))


def percentile(values: list, share: float):
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def histogram_percentile(histogram: dict, share: float):
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(share * total)), 0
    for index in sorted(histogram, key=int):
        seen += histogram[index]
        if seen >= rank:
            return latency_bucket_value(int(index))
    return None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def _empty() -> dict:
    figures: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    figures.update(field_corrections={}, step_failures={}, latency_count=0, latency_p50_ms=None,
                   latency_p95_ms=None, latency_histogram={}, processing_p50_ms=None, processing_p95_ms=None,
                   confidence_bands=[0] * BANDS, confidence_sum=0.0)
    return figures


def _ms(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None:  # the queries read finished rows: both are there
        return 0
    return max(0, int((end - start).total_seconds() * 1000))


def figures_compute(*, tenant, day: date, now: datetime | None = None) -> dict[int, dict]:
    """One day's figures of every use case of the tenant that had anything that day: {use case id: figures},
    the figures keyed as DailyFigures' columns. A fixed number of queries, whatever the volume."""
    now = now or timezone.now()
    start, end = day_bounds(day)
    within = {"gte": start, "lt": end}
    result: dict[int, dict] = {}
    row: Mapping[str, Any]  # the aggregate rows below, each of its own shape

    def of(use_case_id) -> dict:
        return result.setdefault(use_case_id, _empty())

    def by(field_name):
        return {f"{field_name}__{lookup}": value for lookup, value in within.items()}

    items = WorkItem.objects.for_tenant(tenant).filter(is_dry_run=False)
    for row in items.filter(**by("created_at")).values("use_case").annotate(n=Count("pk")):
        of(row["use_case"])["received"] = row["n"]

    reviewed = ReviewDecision.objects.filter(item=OuterRef("pk")).exclude(task__queue__kind=QueueKind.SAMPLE_CHECK)
    latencies: dict[int, list[int]] = {}
    finals = (items.filter(**by("finalised_at"), status__in=FINAL_ITEM_STATUSES).annotate(reviewed=Exists(reviewed))
              .values_list("use_case", "status", "reviewed", "created_at", "finalised_at"))
    for use_case_id, status, was_reviewed, created, finalised in finals.iterator():
        figures = of(use_case_id)
        if status == ItemStatus.REJECTED:
            figures["rejected"] += 1
        else:
            figures["applied_manual" if was_reviewed else "applied_auto"] += 1
        latencies.setdefault(use_case_id, []).append(_ms(created, finalised))
    for use_case_id, values in latencies.items():
        figures = of(use_case_id)
        histogram: dict[str, int] = {}
        for value in values:
            key = str(latency_bucket(value))
            histogram[key] = histogram.get(key, 0) + 1
        figures.update(latency_count=len(values), latency_p50_ms=percentile(values, 0.5),
                       latency_p95_ms=percentile(values, 0.95), latency_histogram=histogram)

    for row in (Escalation.objects.for_tenant(tenant).filter(**by("created_at"), item__is_dry_run=False)
                .values("item__use_case").annotate(n=Count("pk"))):
        of(row["item__use_case"])["escalations"] = row["n"]

    runs = Run.objects.for_tenant(tenant).filter(item__is_dry_run=False)
    for row in runs.filter(**by("finished_at"), status=RunStatus.FAILED).values("item__use_case").annotate(
            n=Count("pk")):
        of(row["item__use_case"])["failed"] = row["n"]
    processing: dict[int, list[int]] = {}
    for use_case_id, started, finished in runs.filter(
            **by("finished_at"), status=RunStatus.SUCCEEDED, started_at__isnull=False).values_list(
            "item__use_case", "started_at", "finished_at").iterator():
        processing.setdefault(use_case_id, []).append(_ms(started, finished))
    for use_case_id, values in processing.items():
        of(use_case_id).update(processing_p50_ms=percentile(values, 0.5), processing_p95_ms=percentile(values, 0.95))

    for row in (StepRun.objects.for_tenant(tenant).filter(**by("started_at"), status=StepStatus.FAILED,
                                                          run__item__is_dry_run=False)
                .values("run__item__use_case", "step").annotate(n=Count("pk"))):
        of(row["run__item__use_case"])["step_failures"][row["step"]] = row["n"]

    decisions = (ReviewDecision.objects.for_tenant(tenant).filter(**by("created_at"), action__in=JUDGING)
                 .values_list("item__use_case", "action", "diff", "final_fields"))
    for use_case_id, action, diff, final_fields in decisions.iterator():
        figures = of(use_case_id)
        figures["decisions"] += 1
        if diff:
            figures["corrected"] += 1
        if action == DecisionAction.REJECT:
            continue
        per_field = figures["field_corrections"]
        for name in set(final_fields or {}) | set(diff or {}):
            counts = per_field.setdefault(name, [0, 0])
            counts[0] += 1 if name in (diff or {}) else 0
            counts[1] += 1

    tasks = ReviewTask.objects.for_tenant(tenant)
    open_at_end = tasks.filter(created_at__lt=end).filter(Q(state__in=OPEN_TASK_STATES) | Q(done_at__gte=end))
    for row in open_at_end.values("item__use_case").annotate(n=Count("pk")):
        of(row["item__use_case"])["backlog"] = row["n"]
    late = tasks.filter(due_at__gte=start, due_at__lt=min(end, now)).filter(
        Q(done_at__isnull=True, state__in=OPEN_TASK_STATES) | Q(done_at__gt=F("due_at")))
    for row in late.values("item__use_case").annotate(n=Count("pk")):
        of(row["item__use_case"])["sla_breaches"] = row["n"]

    band = Least(Cast(Floor(F("confidence") * BANDS), IntegerField()), BANDS - 1)
    for row in (Suggestion.objects.for_tenant(tenant).filter(**by("created_at"), item__is_dry_run=False)
                .annotate(band=band).values("item__use_case", "band")
                .annotate(n=Count("pk"), total=Sum("confidence", output_field=FloatField()))):
        figures = of(row["item__use_case"])
        figures["confidence_bands"][max(0, int(row["band"]))] += row["n"]
        figures["confidence_sum"] += float(row["total"] or 0)

    for row in (DeliveryAttempt.objects.for_tenant(tenant).filter(**by("started_at"), ok=False)
                .values("delivery__item__use_case").annotate(n=Count("pk"))):
        of(row["delivery__item__use_case"])["delivery_failures"] = row["n"]
    deliveries = Delivery.objects.for_tenant(tenant)
    for row in (deliveries.filter(**by("created_at"), status=DeliveryStatus.DEAD).values("item__use_case")
                .annotate(n=Count("pk"))):
        of(row["item__use_case"])["deliveries_dead"] = row["n"]
    for row in deliveries.filter(**by("delivered_at")).values("item__use_case").annotate(n=Count("pk")):
        of(row["item__use_case"])["delivered"] = row["n"]
    for figures in result.values():
        figures["confidence_sum"] = round(figures["confidence_sum"], 6)
    return result


# --- the report of a period ---------------------------------------------------------------------------------

@dataclass
class Day:
    day: date
    figures: dict

    def get(self, key):
        return self.figures.get(key)


@dataclass
class Report:
    since: date
    until: date
    use_case: UseCase | None
    use_cases: dict
    days: list[Day]
    totals: dict
    fields: list[dict] = field(default_factory=list)  # correction rate per field
    steps: list[dict] = field(default_factory=list)  # failures per pipeline step
    per_use_case: list[dict] = field(default_factory=list)
    live_today: bool = False

    @property
    def is_empty(self) -> bool:
        return not any(self.totals.get(key) for key in ("received", "decisions", "escalations", "failed", "backlog"))


def _add(into: dict, figures: dict) -> None:
    for key in COUNTS:
        into[key] += figures.get(key) or 0
    for name, steps in (figures.get("step_failures") or {}).items():
        into["step_failures"][name] = into["step_failures"].get(name, 0) + steps
    for key, n in (figures.get("latency_histogram") or {}).items():
        into["latency_histogram"][key] = into["latency_histogram"].get(key, 0) + n
    into["latency_count"] += figures.get("latency_count") or 0
    bands = figures.get("confidence_bands") or []
    for index, n in enumerate(bands[:BANDS]):
        into["confidence_bands"][index] += n
    into["confidence_sum"] += figures.get("confidence_sum") or 0.0


def _row_figures(row: DailyFigures) -> dict:
    return {name: getattr(row, name) for name in _empty()}


def derived(figures: dict) -> dict:
    """The rates and percentiles people read, from the counts (None where there is nothing to divide)."""
    final = figures["applied_auto"] + figures["applied_manual"] + figures["rejected"]
    suggestions = sum(figures["confidence_bands"])
    latency_p50 = figures.get("latency_p50_ms")
    latency_p95 = figures.get("latency_p95_ms")
    if figures.get("_combined"):  # several use cases or days: read from the added-up histogram
        latency_p50 = histogram_percentile(figures["latency_histogram"], 0.5)
        latency_p95 = histogram_percentile(figures["latency_histogram"], 0.95)
    return {
        "final": final,
        "auto_share": figures["applied_auto"] / final if final else None,
        "correction_rate": figures["corrected"] / figures["decisions"] if figures["decisions"] else None,
        "latency_p50_ms": latency_p50, "latency_p95_ms": latency_p95,
        "confidence_mean": figures["confidence_sum"] / suggestions if suggestions else None,
        "confidence_shares": [n / suggestions for n in figures["confidence_bands"]] if suggestions else None,
        "suggestions": suggestions,
    }


def leitstand_report(*, tenant, since: date, until: date, use_case: UseCase | None = None,
                     now: datetime | None = None) -> Report:
    """The period [since, until] from the daily rows; today, when in the period, counted live (the rows of
    today are only as fresh as the last refresh). Queries: the use cases, the rows, and today's count."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    use_cases = {u.pk: u for u in UseCase.objects.for_tenant(tenant).order_by("title")}
    wanted = {use_case.pk} if use_case is not None else set(use_cases)
    per_day: dict[date, dict[int, dict]] = {}
    rows = DailyFigures.objects.for_tenant(tenant).filter(day__gte=since, day__lte=min(until, today))
    if use_case is not None:
        rows = rows.filter(use_case=use_case)
    for row in rows.exclude(day=today):
        per_day.setdefault(row.day, {})[row.use_case_id] = _row_figures(row)
    live = since <= today <= until
    if live:
        per_day[today] = {pk: figures for pk, figures in figures_compute(tenant=tenant, day=today, now=now).items()
                          if pk in wanted}
    days, totals = [], _empty()
    by_use_case: dict[int, dict] = {}
    field_counts: dict[tuple[int, str], list[int]] = {}
    day = since
    while day <= until:
        day_figures, entries = _empty(), per_day.get(day, {})
        for pk, figures in entries.items():
            _add(day_figures, figures)
            _add(by_use_case.setdefault(pk, _empty() | {"_combined": True}), figures)
            for name, (corrected, reviewed) in (figures.get("field_corrections") or {}).items():
                counts = field_counts.setdefault((pk, name), [0, 0])
                counts[0] += corrected
                counts[1] += reviewed
        if len(entries) == 1:
            (only,) = entries.values()
            day_figures.update(latency_p50_ms=only["latency_p50_ms"], latency_p95_ms=only["latency_p95_ms"],
                               processing_p50_ms=only["processing_p50_ms"], processing_p95_ms=only["processing_p95_ms"])
        else:
            day_figures["_combined"] = True
        day_figures.update(derived(day_figures))
        days.append(Day(day=day, figures=day_figures))
        _add(totals, day_figures)
        day += timedelta(days=1)
    totals["_combined"] = True
    totals.update(derived(totals))
    report = Report(since=since, until=until, use_case=use_case, use_cases=use_cases, days=days, totals=totals,
                    live_today=live)
    for (pk, name), (corrected, reviewed) in sorted(
            field_counts.items(), key=lambda entry: (use_cases[entry[0][0]].title, entry[0][1])):
        spec = use_cases[pk].output_field(name)
        if spec is None or not reviewed:
            continue
        label = field_label(spec, name)
        report.fields.append({"use_case": use_cases[pk], "field": name,
                              "label": label if use_case is not None else f"{use_cases[pk].title} · {label}",
                              "corrected": corrected, "reviewed": reviewed, "rate": corrected / reviewed})
    for step, n in sorted(totals["step_failures"].items(), key=lambda entry: -entry[1]):
        try:
            label = str(PipelineStep(step).label)
        except ValueError:
            label = step
        report.steps.append({"step": step, "label": label, "failed": n})
    for pk, figures in by_use_case.items():
        figures.update(derived(figures))
        report.per_use_case.append({"use_case": use_cases[pk], "figures": figures})
    report.per_use_case.sort(key=lambda entry: entry["use_case"].title)
    return report


def daily_figures_days(*, tenant, use_case: UseCase | None = None) -> list[date]:
    """The days that have stored figures (for tests and the refresh command's report)."""
    rows = DailyFigures.objects.for_tenant(tenant)
    if use_case is not None:
        rows = rows.filter(use_case=use_case)
    return sorted(set(rows.values_list("day", flat=True)))
