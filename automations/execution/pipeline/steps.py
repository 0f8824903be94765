"""The steps. Each may skip itself or stop the chain; none raises on bad input — bad input becomes a
reason and, where machines cannot go on, clarification."""
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import islice

from django.utils.translation import gettext as _

from automations.choices import FieldType, MasterKind
from automations.documents.fields import fill_input_fields
from automations.documents.services import item_documents_store, item_files_read
from automations.engines import get_engine, limits, patterns, validation
from automations.engines.base import EngineResult
from automations.engines.patterns import EMAIL, IBAN_TEXT, PHONE, RunPattern
from automations.execution.models.work import MasterRecord
from automations.execution.pipeline.context import PipelineContext, StepError
from automations.execution.selectors import master_record_find, work_item_duplicates
from automations.fields import engine_label, field_label, format_value, labels_by_name

PERSONAL_PATTERNS: dict[str, re.Pattern[str] | RunPattern] = {"email": EMAIL, "phone": PHONE, "iban": IBAN_TEXT}


class Step:
    name = ""

    def run(self, ctx: PipelineContext) -> dict:
        """Returns details for the StepRun row; raise StepError to retry, StopPipeline to stop."""
        raise NotImplementedError


class ReadStep(Step):
    """The document stage: every file read to text (text layer, OCR, e-mail and attachments, plain text,
    XML), the use case's empty text input fields filled from it, and what was read stored for the review
    page. Runs in the worker; OCR takes seconds a page."""

    name = "read"

    def run(self, ctx: PipelineContext) -> dict:
        if not ctx.engine_input.files:
            return {"skipped": True}
        documents = item_files_read(files=ctx.engine_input.files)
        ctx.engine_input.documents = documents
        filled = fill_input_fields(list(ctx.use_case.input_fields), ctx.payload or {}, documents)
        ctx.engine_input.payload = {**(ctx.engine_input.payload or {}), **filled}
        for doc in documents:
            for part in doc.walk():
                for reason in part.reasons:
                    ctx.add_reason(reason)
        if ctx.item is not None:  # an evaluation's test case stores nothing
            item_documents_store(item=ctx.item, documents=documents, item_files=list(ctx.item.files.order_by("pk")))
        return {"documents": [d.summary() for d in documents], "filled": sorted(filled)}


class ExtractStep(Step):
    """Asks every engine of the release for suggestions; engines run outside any transaction. Input over
    its fields' limits (accepted before a limit was lowered, or by a path that does not check) is given to
    no engine: the item goes to clarification with the reason."""

    name = "extract"

    def run(self, ctx: PipelineContext) -> dict:
        oversized = limits.payload_problems(ctx.use_case, ctx.payload)
        for name, reason in oversized.items():
            ctx.add_reason(reason, field_name=name, clarification=True)
        if oversized:
            return {"skipped": True, "too_large": sorted(oversized)}
        engines = []
        for config in sorted(ctx.release.engine_configs.all(), key=lambda config: config.pk):
            parameters = config.parameters
            if config.engine == "llm":
                # The llm engine renders the release's approved prompt version (its provider calls are
                # recorded against the item by the engine services).
                parameters = {**parameters, "prompt_template_id": ctx.release.prompt_template_id}
            try:
                result: EngineResult = get_engine(config.engine).suggest(
                    ctx.engine_input, parameters=parameters, artifact_ref=config.artifact_ref)
            except StepError:
                raise
            except Exception as exc:  # an engine defect must not lose the item: retry, then escalate
                raise StepError(f"{config.engine}: {exc}") from exc
            wanted = set(config.fields or [f["name"] for f in ctx.use_case.output_fields])
            ctx.suggestions.extend(s for s in result.suggestions if s.field in wanted)
            for reason in result.reasons:
                ctx.add_reason(reason, clarification=result.needs_clarification)
            if result.needs_clarification:
                ctx.needs_clarification = True
            engines.append({"engine": config.engine, "version": config.number, "suggestions": len(result.suggestions),
                            "meta": result.meta})
        return {"engines": engines}


class DecideStep(Step):
    """One value per field: the most confident suggestion; contradicting engines are a reason (and an
    escalation)."""

    name = "decide"

    def run(self, ctx: PipelineContext) -> dict:
        by_field: dict[str, list] = {}
        for suggestion in ctx.suggestions:
            by_field.setdefault(suggestion.field, []).append(suggestion)
        disagreements = []
        for name, candidates in by_field.items():
            candidates.sort(key=lambda s: -s.confidence)
            ctx.chosen[name] = candidates[0]
            values = {str(c.value) for c in candidates if c.confidence >= 0.5}
            if len(values) > 1:
                disagreements.append(name)
                spec = ctx.use_case.output_field(name)
                text = _("Engines disagree on %(field)s: %(values)s") % {
                    "field": field_label(spec, name), "values": ", ".join(
                        f"{engine_label(c.engine)}: {format_value(spec, c.value)}" for c in candidates)}
                ctx.add_reason(text, field_name=name)
                ctx.escalation_reasons.append(text)
        return {"fields": sorted(ctx.chosen), "disagreements": disagreements}


class CheckStep(Step):
    """Data quality: missing required input, duplicates, references that don't resolve or resolve
    inconsistently. Such items keep their data and go to clarification with the reason."""

    name = "check"

    def run(self, ctx: PipelineContext) -> dict:
        for spec in ctx.use_case.input_fields:
            if (spec.get("required") and spec.get("type") != "file"
                    and not str(ctx.payload.get(spec["name"], "")).strip() and not ctx.engine_input.files):
                ctx.add_reason(_("Required input field %(f)s is missing.") % {"f": field_label(spec)},
                               field_name=spec["name"], clarification=True)
        # A test case is no duplicate of the item it was taken from: it is the same content on purpose.
        if ctx.item is None:
            duplicates = []
        elif ctx.duplicate_ids is not None:
            duplicates = ctx.duplicate_ids
        else:
            duplicates = [duplicate.pk for duplicate in work_item_duplicates(item=ctx.item)]
        if duplicates:
            ctx.add_reason(_("Possible duplicate of item %(id)s (same content or external id).")
                           % {"id": str(duplicates[0])[:8]}, clarification=True)
        found: dict[str, MasterRecord] = {}
        for spec in ctx.use_case.input_fields + ctx.use_case.output_fields:
            reference = spec.get("reference")
            if not reference:
                continue
            value = ctx.payload.get(spec["name"])
            best = ctx.best(spec["name"])
            if value in (None, "") and best is not None:
                value = best.value
            if value in (None, ""):
                continue
            kind, attribute = reference.split(".", 1)
            record = master_record_find(tenant=ctx.tenant, kind=kind, attribute=attribute, value=str(value))
            label = MasterKind(kind).label
            if record is None:
                ctx.add_reason(_("Unknown %(kind)s: no master data record with %(attr)s %(value)s.")
                               % {"kind": label, "attr": field_label(spec), "value": value},
                               field_name=spec["name"], clarification=True)
                continue
            if kind in found and found[kind].pk != record.pk:
                ctx.add_reason(_("Inconsistent %(kind)s references: %(attr)s belongs to %(other)s, not %(first)s.")
                               % {"kind": label, "attr": field_label(spec), "other": record.name,
                                  "first": found[kind].name},
                               field_name=spec["name"], clarification=True)
            found.setdefault(kind, record)
        return {"references": {k: v.number for k, v in found.items()}, "duplicates": len(duplicates)}


def _as_decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


class ValidateStep(Step):
    """Per field type, pattern, range, checksums and choices; cross-field sums. A failure never changes
    the value: it becomes a reason shown beside the field."""

    name = "validate"

    def run(self, ctx: PipelineContext) -> dict:
        failures = 0
        for spec in ctx.use_case.output_fields:
            suggestion = ctx.chosen.get(spec["name"])
            if suggestion is None or suggestion.value in (None, ""):
                continue
            for problem in self.field_problems(spec, suggestion.value, validation):
                failures += 1
                ctx.add_reason(f"{field_label(spec)}: {problem}", field_name=spec["name"])
        values = {name: s.value for name, s in ctx.chosen.items()}
        if {"net_total", "tax_total", "gross_total"} & set(values):
            for problem in validation.invoice_validation_reasons(
                    values, labels=labels_by_name(ctx.use_case.output_fields)):
                failures += 1
                ctx.add_reason(problem)
        return {"failures": failures}

    @staticmethod
    def field_problems(spec: dict, value, validation) -> list[str]:
        problems = []
        kind = spec.get("type", FieldType.TEXT)
        text = str(value)
        if kind == FieldType.DECIMAL and _as_decimal(value) is None:
            problems.append(_("not a number"))
        if kind == FieldType.DATE and validation.parse_date(text) is None:
            problems.append(_("not a date"))
        if kind == FieldType.IBAN and not validation.iban_valid(text):
            problems.append(_("IBAN checksum (mod 97) fails"))
        if kind == FieldType.VAT_ID and not validation.vat_id_well_formed(text):
            problems.append(_("not a valid VAT id format"))
        elif kind == FieldType.VAT_ID and not validation.vat_id_valid(text):
            problems.append(_("VAT id check digit fails"))
        if kind == FieldType.EMAIL and not EMAIL.fullmatch(text):
            problems.append(_("not an e-mail address"))
        if kind == FieldType.CATEGORY and spec.get("choices") and text not in spec["choices"]:
            problems.append(_("not one of the allowed values"))
        rule = spec.get("validation") or {}
        if rule.get("pattern"):
            try:
                if not patterns.user_pattern(rule["pattern"]).fullmatch(text):
                    problems.append(_("does not match the required pattern"))
            except patterns.UnsafePattern as exc:
                problems.append(str(exc))
        number = _as_decimal(value) if ("min" in rule or "max" in rule) else None
        if number is not None and "min" in rule and number < Decimal(str(rule["min"])):
            problems.append(_("below the minimum %(min)s") % {"min": rule["min"]})
        if number is not None and "max" in rule and number > Decimal(str(rule["max"])):
            problems.append(_("above the maximum %(max)s") % {"max": rule["max"]})
        return problems


class GuardStep(Step):
    """The release's guardrails on every generated text: forbidden phrases and patterns, personal data,
    required disclaimers, maximum length. A violation is a reason: never applied automatically."""

    name = "guard"

    def run(self, ctx: PipelineContext) -> dict:
        guardrails = ctx.release.guardrail_set
        if guardrails is None:
            return {"skipped": True}
        violations = 0
        for name, suggestion in ctx.chosen.items():
            if suggestion.engine != "llm" or not isinstance(suggestion.value, str):
                continue
            for problem in guardrail_violations(guardrails, suggestion.value):
                violations += 1
                ctx.add_reason(f"{field_label(ctx.use_case.output_field(name), name)}: {problem}", field_name=name)
        return {"violations": violations}


@dataclass(frozen=True)
class GuardrailFinding:
    message: str
    # (start, end) character positions in the text to highlight for the clerk; empty when the finding
    # is about something missing (a disclaimer).
    spans: tuple[tuple[int, int], ...] = ()


# Highlighting a finding shows where it is; a text with more places than this shows the first ones.
MAX_SPANS = 200


def guardrail_findings(guardrails, text: str) -> list[GuardrailFinding]:
    """The violations of a guardrail set in a generated text, each with the positions to highlight. The
    configured patterns run on RE2 (linear time, automations.engines.patterns.user_pattern); one that cannot be used
    is a finding of its own, so that the text is never taken as checked."""
    found = []
    lowered = text.casefold()

    def spans(matches) -> tuple[tuple[int, int], ...]:
        return tuple(islice((m.span() for m in matches if m.end() > m.start()), MAX_SPANS))

    for phrase in guardrails.forbidden_phrases:
        if phrase.casefold() in lowered:
            found.append(GuardrailFinding(_("Guardrail: forbidden phrase “%(p)s”") % {"p": phrase},
                                          spans(re.finditer(re.escape(phrase), text, flags=re.IGNORECASE))))
    for pattern in guardrails.forbidden_patterns:
        try:
            compiled = patterns.user_pattern(pattern, ignore_case=True)
        except patterns.UnsafePattern as exc:
            found.append(GuardrailFinding(_("Guardrail: forbidden pattern %(p)s cannot be checked: %(e)s")
                                          % {"p": pattern, "e": exc}))
            continue
        if compiled.search(text):
            found.append(GuardrailFinding(_("Guardrail: forbidden pattern %(p)s") % {"p": pattern},
                                          spans(compiled.finditer(text))))
    for kind in guardrails.personal_data_patterns:
        personal = PERSONAL_PATTERNS.get(kind)
        if personal is not None and personal.search(text):
            found.append(GuardrailFinding(_("Guardrail: personal data (%(k)s) in generated text") % {"k": kind},
                                          spans(personal.finditer(text))))
    for disclaimer in guardrails.required_disclaimers:
        if disclaimer.casefold() not in lowered:
            found.append(GuardrailFinding(_("Guardrail: required disclaimer missing (“%(d)s”)") % {"d": disclaimer}))
    if guardrails.max_length and len(text) > guardrails.max_length:
        found.append(GuardrailFinding(_("Guardrail: longer than %(n)s characters") % {"n": guardrails.max_length},
                                      ((guardrails.max_length, len(text)),)))
    return found


def guardrail_violations(guardrails, text: str) -> list[str]:
    return [finding.message for finding in guardrail_findings(guardrails, text)]


PREPARE_STEPS = (ReadStep(), ExtractStep(), CheckStep(), DecideStep(), ValidateStep(), GuardStep())
