from dataclasses import dataclass, field

from automations.engines.base import EngineInput, FieldSuggestion, StepError  # noqa: F401  (a step raises it)
from automations.execution.models.work import Run, WorkItem
from automations.registry.models.use_cases import UseCase
from automations.registry.models.versions import Release
from portal.models import Tenant


@dataclass
class PipelineContext:
    """One input on its way through a release's steps. `item` and `run` are the work item and its run; an
    evaluation's test case (automations.evaluation) has neither: its input takes the same steps and nothing about
    it is stored."""

    item: WorkItem | None
    run: Run | None
    use_case: UseCase
    release: Release  # a dry run of a draft release still has one
    engine_input: EngineInput
    tenant: Tenant
    payload: dict  # the input fields as received (the item's payload); engine_input's gain what the files held
    dry_run: bool = False
    # The ids of earlier items this one may duplicate (at most one), when the run read them with its context
    # (automations.execution.services.runs); None: the check step looks them up.
    duplicate_ids: list | None = None
    suggestions: list[FieldSuggestion] = field(default_factory=list)
    chosen: dict[str, FieldSuggestion] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    # field name -> reasons attached to that field (shown beside the field to the clerk)
    field_reasons: dict[str, list[str]] = field(default_factory=dict)
    needs_clarification: bool = False
    escalation_reasons: list[str] = field(default_factory=list)
    outcome: str = ""

    def best(self, field_name: str) -> FieldSuggestion | None:
        candidates = [s for s in self.suggestions if s.field == field_name]
        return max(candidates, key=lambda s: s.confidence) if candidates else None

    def add_reason(self, text: str, *, field_name: str | None = None, clarification: bool = False) -> None:
        if text not in self.reasons:
            self.reasons.append(text)
        if field_name:
            self.field_reasons.setdefault(field_name, [])
            if text not in self.field_reasons[field_name]:
                self.field_reasons[field_name].append(text)
        if clarification:
            self.needs_clarification = True


class StopPipeline(Exception):
    """A step decided the remaining steps must not run (e.g. the use case was suspended)."""
