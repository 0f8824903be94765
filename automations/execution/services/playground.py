"""The prompt playground: the core team tries prompt versions (drafts included) on sample input, against
the processor each version names, and sees the answer, the guardrail result and the latency — side by
side for two versions. No work item is created; the calls are recorded like any other (without an
item) and each run is audited without its input."""
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services.events import audit_event_record
from automations.engines.llm.calls import ProviderUnavailable
from automations.execution.models.llm_calls import LlmCallPurpose
from automations.execution.pipeline.steps import guardrail_findings
from automations.execution.services.llm_calls import generate
from automations.registry.models.use_cases import UseCase
from automations.registry.models.versions import GuardrailSetVersion, PromptTemplateVersion
from portal.permissions import require_perm

MAX_VERSIONS = 2


@dataclass
class Segment:
    text: str
    marked: bool = False


@dataclass
class FieldResult:
    name: str
    value: object
    confidence: float
    findings: list = field(default_factory=list)  # GuardrailFinding
    segments: list[Segment] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        return not self.findings


@dataclass
class PlaygroundResult:
    version: PromptTemplateVersion
    refusals: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    error: str = ""
    answer: str = ""
    fields: list[FieldResult] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def confidence_basis(self) -> str:
        basis = self.meta.get("confidence")
        if basis == "logprobs":
            return _("the model's log-probabilities")
        if basis == "fixed_no_logprobs":
            return _("the fixed value (the provider returned no log-probabilities)")
        if basis == "self_consistency":
            return _("agreement of %(n)s samples") % {"n": self.meta.get("samples")}
        return _("the fixed value") if basis == "fixed" else ""

    @property
    def outcome(self) -> str:
        if self.refusals:
            return "refused"
        if self.error:
            return "failed"
        if self.reasons:
            return "invalid"
        return "blocked" if any(not f.passes for f in self.fields) else "ok"


def highlight(text: str, spans) -> list[Segment]:
    """The text cut into plain and marked segments (overlapping spans merged)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    segments, position = [], 0
    for start, end in merged:
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], marked=True))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


def _field_result(name, suggestion, guardrail_set) -> FieldResult:
    value = suggestion.value
    result = FieldResult(name=name, value=value, confidence=suggestion.confidence)
    if isinstance(value, str):
        if guardrail_set is not None:
            result.findings = guardrail_findings(guardrail_set, value)
        result.segments = highlight(value, [span for f in result.findings for span in f.spans])
    return result


def playground_run(*, actor, use_case: UseCase, versions: list[PromptTemplateVersion], payload: dict,
                   guardrail_set: GuardrailSetVersion | None = None) -> list[PlaygroundResult]:
    """Each version on the same sample input; provider calls run outside any transaction."""
    tenant = use_case.tenant
    require_perm(actor, tenant, "automations.add_prompttemplateversion")
    if not versions or len(versions) > MAX_VERSIONS:
        raise ValidationError(_("Choose one or two prompt versions."))
    parts = [*versions, *([guardrail_set] if guardrail_set else [])]
    if any(part.tenant_id != tenant.pk or part.use_case_id != use_case.pk for part in parts):
        raise ValidationError(_("The versions must belong to this use case."))
    inputs = {f["name"] for f in use_case.input_fields}
    payload = {name: value for name, value in payload.items() if name in inputs}
    results = []
    for version in versions:
        result = PlaygroundResult(version=version)
        try:
            generation = generate(use_case=use_case, version=version, payload=payload, actor=actor,
                                  purpose=LlmCallPurpose.PLAYGROUND)
        except ProviderUnavailable as exc:
            result.error = str(exc)
        else:
            result.refusals, result.reasons = generation.refusals, generation.reasons
            result.answer, result.meta = generation.answer, generation.meta
            result.messages = generation.prompt.messages if generation.prompt else []
            result.fields = [_field_result(s.field, s, guardrail_set) for s in generation.suggestions]
        with transaction.atomic():
            audit_event_record(actor=actor, tenant=tenant, event_type="prompt_playground.ran", obj=version,
                               details={"use_case": use_case.key, "version": version.number,
                                        "processor": version.processor_key, "outcome": result.outcome,
                                        "prompt_hash": result.meta.get("prompt_hash", ""),
                                        "guardrail_set": guardrail_set.number if guardrail_set else None})
        results.append(result)
    return results
