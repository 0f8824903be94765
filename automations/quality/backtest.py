"""Threshold backtest: a threshold set replayed on the past — the routed items of the last N days with every
engine's recorded suggestions and confidences, and the clerks' decisions on them. Answers: what share would
have been applied automatically, how many of those the clerks corrected (the error that would have reached the
ERP), and how much review work would remain; per engine and field, how often each engine's value would have
passed and how often it was wrong.

Routing is replayed as automations.execution.services.runs routes: per field the most confident suggestion
(DecideStep); a required field without one, or a confidence below `reject`, goes to clarification; an item
whose earlier steps gave a reason of their own (validation, duplicates, disagreeing engines, guardrails — the
route step records this as `held_back`) goes to review whatever the thresholds; otherwise it is applied when
every field reaches `auto`. Runs routed before `held_back` was recorded count as not held back."""
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Avg
from django.utils import timezone

from automations.choices import RunStatus
from automations.execution.models.work import Run, StepRun, Suggestion
from automations.quality.selectors import JUDGING_ACTIONS
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import label_map
from reviews.choices import DecisionAction, TaskState
from reviews.models import ReviewDecision

MAX_ITEMS = 20000  # the newest items of the period are replayed; older ones beyond this are left out
CHUNK = 2000


@dataclass
class Truth:
    """The clerks' last judging decision on an item."""

    action: str
    final_fields: dict
    diff: dict

    @property
    def corrected(self) -> bool:
        return self.action in (DecisionAction.CORRECT, DecisionAction.REJECT) or bool(self.diff)


@dataclass
class ReplayItem:
    item_id: str
    suggestions: list[tuple[str, object, float, str]]  # (field, value, confidence, engine), in recorded order
    held_back: bool = False
    truth: Truth | None = None


@dataclass
class EngineFieldFigures:
    engine: str
    field: str
    suggestions: int = 0
    would_pass: int = 0  # confidence at or above `auto`
    checked: int = 0  # ... of which a clerk decided the item (approved or corrected, not rejected)
    wrong: int = 0  # ... of which the clerk's final value differs


@dataclass
class BacktestFigures:
    items: int = 0
    applied_automatically: int = 0
    to_review: int = 0
    to_clarification: int = 0
    auto_checked: int = 0
    auto_corrected: int = 0
    review_minutes_per_item: float | None = None
    engines: list[EngineFieldFigures] = field(default_factory=list)

    @property
    def automation_share(self) -> float | None:
        return self.applied_automatically / self.items if self.items else None

    @property
    def auto_error_rate(self) -> float | None:
        return self.auto_corrected / self.auto_checked if self.auto_checked else None

    @property
    def manual_items(self) -> int:
        return self.to_review + self.to_clarification

    def as_dict(self) -> dict:
        rate = self.auto_error_rate
        minutes = self.review_minutes_per_item
        return {
            "items": self.items, "applied_automatically": self.applied_automatically,
            "automation_share": _round(self.automation_share),
            "auto_checked": self.auto_checked, "auto_corrected": self.auto_corrected,
            "auto_unchecked": self.applied_automatically - self.auto_checked,
            "auto_error_rate": _round(rate),
            "estimated_errors": round(rate * self.applied_automatically) if rate is not None else None,
            "to_review": self.to_review, "to_clarification": self.to_clarification,
            "manual_items": self.manual_items,
            "manual_share": _round(self.manual_items / self.items) if self.items else None,
            "review_hours": round(self.manual_items * minutes / 60, 1) if minutes is not None else None,
            "engines": [vars(e) for e in self.engines],
        }


def _round(value):
    return None if value is None else round(value, 4)


def same_value(a, b) -> bool:
    """Values compare as the review's difference does (as text), decimals by value ("300" equals "300.00")."""
    if str(a) == str(b):
        return True
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except (InvalidOperation, ValueError):
        return False


def _threshold(thresholds: dict, name: str, key: str, default: float) -> float:
    value = (thresholds.get(name) or {}).get(key)
    return default if value is None else float(value)


def chosen_suggestions(item: ReplayItem) -> dict[str, tuple]:
    """Per field the most confident suggestion; of equals the first recorded, as DecideStep's stable sort keeps."""
    chosen: dict[str, tuple] = {}
    for suggestion in item.suggestions:
        name = suggestion[0]
        if name not in chosen or suggestion[2] > chosen[name][2]:
            chosen[name] = suggestion
    return chosen


def route(item: ReplayItem, thresholds: dict, output_fields: list[dict]) -> str:
    """`applied`, `review` or `clarification` under `thresholds` (see the module's docstring)."""
    chosen = chosen_suggestions(item)
    for spec in output_fields:
        name = spec["name"]
        if name not in chosen:
            if spec.get("required"):
                return "clarification"
            continue
        if chosen[name][2] < _threshold(thresholds, name, "reject", 0.0):
            return "clarification"
    if item.held_back or not chosen:
        return "review"
    if all(s[2] >= _threshold(thresholds, name, "auto", 1.01) for name, s in chosen.items()):
        return "applied"
    return "review"


def replay(items: list[ReplayItem], thresholds: dict, output_fields: list[dict],
           review_minutes_per_item: float | None = None) -> BacktestFigures:
    figures = BacktestFigures(items=len(items), review_minutes_per_item=review_minutes_per_item)
    engines: dict[tuple[str, str], EngineFieldFigures] = {}
    for item in items:
        outcome = route(item, thresholds, output_fields)
        if outcome == "applied":
            figures.applied_automatically += 1
            if item.truth is not None:
                figures.auto_checked += 1
                figures.auto_corrected += item.truth.corrected
        elif outcome == "review":
            figures.to_review += 1
        else:
            figures.to_clarification += 1
        truth = item.truth if item.truth is not None and item.truth.action != DecisionAction.REJECT else None
        judged = truth is not None
        chosen = chosen_suggestions(item) if judged else {}
        for name, value, confidence, engine in item.suggestions:
            row = engines.setdefault((engine, name), EngineFieldFigures(engine=engine, field=name))
            row.suggestions += 1
            if confidence < _threshold(thresholds, name, "auto", 1.01):
                continue
            row.would_pass += 1
            if truth is not None:
                row.checked += 1
                if name in truth.final_fields:
                    final = truth.final_fields[name]
                elif name in truth.diff:
                    final = truth.diff[name].get("final")
                else:  # the clerk left the field as routing chose it
                    final = chosen[name][1]
                row.wrong += not same_value(value, final)
    figures.engines = sorted(engines.values(), key=lambda e: (e.engine, e.field))
    return figures


# --- reading the past ------------------------------------------------------------------------------------

def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def past_items(*, use_case: UseCase, since, until) -> list[ReplayItem]:
    """The use case's real items routed in [since, until): each with its newest successful run's suggestions,
    whether that run's earlier steps held it back, and the clerks' last judging decision."""
    runs = (Run.objects.for_tenant(use_case.tenant)
            .filter(item__use_case=use_case, item__is_dry_run=False, status=RunStatus.SUCCEEDED,
                    finished_at__gte=since, finished_at__lt=until)
            .exclude(release__isnull=True).order_by("-finished_at", "-pk").values_list("pk", "item_id"))
    newest: dict = {}
    for run_id, item_id in runs.iterator(chunk_size=CHUNK):
        if item_id not in newest:
            newest[item_id] = run_id
            if len(newest) >= MAX_ITEMS:
                break
    items = {run_id: ReplayItem(item_id=str(item_id), suggestions=[]) for item_id, run_id in newest.items()}
    by_item = {item.item_id: item for item in items.values()}
    run_ids = list(items)
    for chunk in _chunks(run_ids):
        for run_id, details in StepRun.objects.filter(run_id__in=chunk, step="route").values_list("run_id", "details"):
            items[run_id].held_back = bool((details or {}).get("held_back"))
        for run_id, name, value, confidence, engine in (Suggestion.objects.filter(run_id__in=chunk).order_by("pk")
                                                        .values_list("run_id", "field", "value", "confidence",
                                                                     "engine")):
            items[run_id].suggestions.append((name, value, float(confidence), engine))
    item_ids = list(newest)
    for chunk in _chunks(item_ids):
        decisions = (ReviewDecision.objects.filter(item_id__in=chunk, task__state=TaskState.DONE,
                                                   action__in=JUDGING_ACTIONS)
                     .order_by("created_at", "pk").values_list("item_id", "action", "final_fields", "diff"))
        for item_id, action, final_fields, diff in decisions:  # the last one counts
            by_item[str(item_id)].truth = Truth(action=action, final_fields=final_fields or {}, diff=diff or {})
    return list(items.values())


def review_minutes_per_item(*, use_case: UseCase, since, until) -> float | None:
    """The clerks' mean time on a task of this use case in the period (None without decisions)."""
    ms = (ReviewDecision.objects.for_tenant(use_case.tenant)
          .filter(task__use_case=use_case, created_at__gte=since, created_at__lt=until, time_on_task_ms__gt=0)
          .aggregate(avg=Avg("time_on_task_ms"))["avg"])
    return None if ms is None else round(ms / 60000, 2)


def current_thresholds(*, use_case: UseCase, label: str | None = None):
    """The threshold set that routes today under `label`; without one, the production label's release, else
    the pilot label's."""
    labels = label_map(use_case=use_case)
    release = labels.get(label) if label else (labels.get("production") or labels.get("pilot"))
    return release.threshold_set if release is not None else None


def threshold_backtest(*, use_case: UseCase, thresholds: dict, days: int = 30, now=None,
                       label: str | None = None) -> dict:
    """The proposed thresholds and those in force (under `label`, see current_thresholds), replayed on the same
    past items of the last `days` days."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    items = past_items(use_case=use_case, since=since, until=now)
    minutes = review_minutes_per_item(use_case=use_case, since=since, until=now)
    outputs = list(use_case.output_fields)
    current = current_thresholds(use_case=use_case, label=label)
    return {
        "days": days, "since": since.isoformat(), "until": now.isoformat(),
        "proposed": {"thresholds": thresholds, **replay(items, thresholds, outputs, minutes).as_dict()},
        "current": ({"threshold_set": current.number, "thresholds": current.thresholds,
                     **replay(items, current.thresholds, outputs, minutes).as_dict()} if current else None),
    }
