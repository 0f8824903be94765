"""The language model engine: renders the release's approved prompt version on an item's declared
fields, asks the processor named in it, validates the answer against the version's output schema
(one repair attempt) and returns per output field a suggestion with a confidence and the model's
answer as explanation.

Which prompt version: the engine configuration may pin one ({"prompt_template_version": N}, so a
release can fill several fields from several prompts); otherwise the release's prompt template,
which ExtractStep passes in as parameters["prompt_template_id"] together with the item's id.

Refusals (processor not in the catalogue or not approved for a category of a declared field) return
needs_clarification with the reason and send nothing; provider failures raise ProviderUnavailable (a
StepError: the pipeline retries, then escalates)."""
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from automations.engines.base import EngineInput, EngineResult, FieldSuggestion, register_engine
from automations.engines.llm import output, prompts
from automations.engines.llm.calls import PURPOSE_REPAIR, PURPOSE_RUN, PURPOSE_SAMPLE
from automations.engines.llm.prompts import PreparedPrompt

DEFAULT_SAMPLES = 3
MAX_SAMPLES = 7


@dataclass
class Generation:
    refusals: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    suggestions: list[FieldSuggestion] = field(default_factory=list)
    answer: str = ""
    prompt: PreparedPrompt | None = None
    meta: dict = field(default_factory=dict)

    @property
    def needs_clarification(self) -> bool:
        return bool(self.refusals or self.reasons)


def _confidence(version, completion, basis: dict) -> float:
    if version.confidence_mode == "logprobs":
        value = output.logprob_confidence(completion.token_logprobs)
        if value is not None:
            basis["confidence"] = "logprobs"
            return round(value, 4)
        basis["confidence"] = "fixed_no_logprobs"
    else:
        basis["confidence"] = "fixed"
    return float(version.fixed_confidence)


def generate(*, use_case, version, entry, payload: dict, call, purpose: str = PURPOSE_RUN) -> Generation:
    """Everything between an item's input and suggestions; shared by the pipeline and the playground.
    `entry` is the processor's catalogue entry (or None), `call` makes one provider call for the engine and
    records it (EngineServices.provider_call with the caller's context)."""
    prepared = prompts.prepare(use_case=use_case, version=version, entry=entry, payload=payload)
    generation = Generation(prompt=prepared, refusals=list(prepared.refusals))
    model = version.model_name or ((entry.settings or {}).get("model") if entry else "") or ""
    json_output = bool(version.output_schema)
    if not prepared.refused and not model:
        generation.refusals.append(_("Neither the prompt version nor processor %(p)s names a model.")
                                   % {"p": entry.key})
    if not prepared.refused and not json_output and not version.output_field:
        generation.refusals.append(_("The prompt version names neither an output schema nor an output field."))
    if generation.refusals:
        return generation
    output_names = {f["name"] for f in use_case.output_fields}
    generation.meta = {"processor": entry.key, "model": model, "prompt_version": version.number,
                       "prompt_hash": prepared.prompt_hash, "masked": prepared.masked, "calls": 0,
                       "latency_ms": 0, "prompt_tokens": 0, "completion_tokens": 0, "repaired": False}
    if prompts.ignored_parameters(version):
        generation.meta["ignored_parameters"] = prompts.ignored_parameters(version)
    def ask(messages, call_purpose):
        body = prompts.request_body(version=version, model=model, messages=messages, json_output=json_output,
                                    logprobs=version.confidence_mode == "logprobs")
        probe = PreparedPrompt(messages=messages)
        prompts.finish(probe)
        completion = call(entry=entry, body=body, version=version, prompt_hash=probe.prompt_hash,
                          stored_text=probe.stored_text, purpose=call_purpose)
        meta = generation.meta
        meta["calls"] += 1
        meta["latency_ms"] += completion.latency_ms
        meta["prompt_tokens"] += completion.prompt_tokens or 0
        meta["completion_tokens"] += completion.completion_tokens or 0
        return completion

    def values_of(content) -> tuple[dict | None, str]:
        if not json_output:
            text = content.strip()
            return ({version.output_field: text} if text else None), ("" if text else "empty answer")
        data, error = output.parse_answer(content, version.output_schema)
        if data is None:
            return None, error
        if version.output_field:
            data = {version.output_field: data[version.output_field]} if version.output_field in data else {}
        return {k: v for k, v in data.items() if k in output_names and v not in (None, "")}, ""

    completion = ask(prepared.messages, purpose)
    answer = completion.contents[0]
    values, error = values_of(answer)
    if values is None and json_output:
        generation.meta["repaired"] = True
        repair = prepared.messages + [{"role": "assistant", "content": answer},
                                      {"role": "user", "content": output.REPAIR_INSTRUCTION.format(error=error)}]
        completion = ask(repair, PURPOSE_REPAIR if purpose == PURPOSE_RUN else purpose)
        answer = completion.contents[0]
        values, error = values_of(answer)
    generation.answer = answer
    if values is None:
        if json_output:
            generation.reasons.append(_("The language model's answer does not match the expected output "
                                        "(%(error)s), also after one repair attempt.") % {"error": error})
        else:
            generation.reasons.append(_("The language model gave an empty answer."))
        return generation

    basis: dict = {}
    confidences = {name: _confidence(version, completion, basis) for name in values}
    if version.confidence_mode == "self_consistency":
        samples = min(MAX_SAMPLES, max(2, int((version.parameters or {}).get("samples", DEFAULT_SAMPLES))))
        drawn = [values]
        for _n in range(samples - 1):
            sample, _error = values_of(ask(prepared.messages, PURPOSE_SAMPLE if purpose == PURPOSE_RUN
                                           else purpose).contents[0])
            drawn.append(sample or {})
        for name, value in values.items():
            agreeing = sum(1 for sample in drawn if name in sample and output.same(sample[name], value))
            confidences[name] = round(agreeing / len(drawn), 4)
        basis["confidence"], basis["samples"] = "self_consistency", samples
    generation.meta.update(basis)
    generation.suggestions = [
        FieldSuggestion(field=name, value=value, confidence=confidences[name], engine=LlmEngine.key, explanation=answer)
        for name, value in values.items()]
    return generation


@register_engine("llm")
class LlmEngine:
    key = "llm"

    def suggest(self, item: EngineInput, *, parameters: dict, artifact_ref: str = "") -> EngineResult:
        services = item.services
        use_case = services.use_case() if services is not None else None
        version = services.prompt_version(parameters=parameters) if services is not None and use_case else None
        if services is None or version is None:
            return EngineResult(reasons=[_("The release bundles no submitted prompt template for the language "
                                           "model.")], needs_clarification=True)
        generation = generate(use_case=use_case, version=version, payload=item.payload,
                              entry=services.processor(key=version.processor_key), call=services.provider_call)
        return EngineResult(suggestions=generation.suggestions, reasons=generation.refusals + generation.reasons,
                            needs_clarification=generation.needs_clarification, meta=generation.meta)
