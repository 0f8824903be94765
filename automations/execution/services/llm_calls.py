"""Language model calls, made and recorded by the execution layer for the llm engine (in a run) and the
playground: the circuit breaker asked first, the HTTP client, then one LlmCall row (tokens, latency, prompt
hash) and the breaker told the outcome. Runs outside any transaction; each record is its own short write,
kept whatever becomes of the run."""
from django.utils.translation import gettext as _

from audit.actors import SYSTEM, as_actor
from automations.engines.llm.calls import PURPOSE_RUN, ProviderUnavailable
from automations.engines.llm.client import ChatClient, Completion, Provider, ProviderError
from automations.engines.llm.engine import Generation
from automations.engines.llm.engine import generate as engine_generate
from automations.execution.models.llm_calls import LlmCall, LlmCallStatus
from automations.registry.services import processors


def provider_for(entry) -> Provider:
    settings = entry.settings or {}

    def number(name, default, cast=float):
        try:
            return cast(settings.get(name, default))
        except (TypeError, ValueError):
            return default

    if not entry.endpoint.startswith(("http://", "https://")):
        raise ProviderUnavailable(_("Processor %(p)s has no http(s) base URL.") % {"p": entry.key})
    return Provider(key=entry.key, base_url=entry.endpoint, api_key=processors.processor_api_key(entry=entry),
                    timeout=number("timeout", 30.0), max_retries=max(0, number("max_retries", 2, int)),
                    backoff=number("backoff", 0.5), max_retry_wait=number("max_retry_wait", 30.0),
                    auth_header=str(settings.get("auth_header", "authorization")).lower())


def provider_call(*, entry, body: dict, use_case, version, prompt_hash: str, stored_text: str,
                  purpose: str = PURPOSE_RUN, item_id=None, actor=SYSTEM) -> Completion:
    record = {"tenant": use_case.tenant, "processor_key": entry.key, "model": body.get("model", ""),
              "prompt_hash": prompt_hash, "prompt_masked": stored_text if use_case.store_masked_prompts else "",
              "item_id": item_id, "use_case": use_case, "prompt_version": version, "purpose": purpose,
              "actor": actor}
    provider = provider_for(entry)
    if not processors.processor_circuit_allow(entry=entry):
        llm_call_record(status=LlmCallStatus.CIRCUIT_OPEN, **record)
        raise ProviderUnavailable(_("Processor %(p)s is paused after repeated failures (circuit breaker open); "
                                    "IT has been told.") % {"p": entry.key})
    try:
        completion = ChatClient(provider).complete(body)
    except ProviderError as exc:
        llm_call_record(status=LlmCallStatus.FAILED, http_status=exc.http_status, attempts=exc.attempts,
                        latency_ms=exc.latency_ms, error=str(exc), **record)
        processors.processor_circuit_record(entry=entry, ok=False, error=str(exc))
        raise ProviderUnavailable(_("Processor %(p)s gave no usable answer: %(e)s") % {"p": entry.key, "e": exc}) \
            from None
    llm_call_record(status=LlmCallStatus.OK, http_status=completion.http_status, attempts=completion.attempts,
                    latency_ms=completion.latency_ms, prompt_tokens=completion.prompt_tokens,
                    completion_tokens=completion.completion_tokens, **record)
    processors.processor_circuit_record(entry=entry, ok=True)
    return completion


def generate(*, use_case, version, payload: dict, item_id=None, actor=SYSTEM, purpose: str = PURPOSE_RUN) -> Generation:
    """The llm engine's generation for a use case and prompt version, with the processor looked up and every
    provider call made and recorded here (the pipeline's engine and the playground)."""
    def call(**kwargs):
        return provider_call(use_case=use_case, item_id=item_id, actor=actor, **kwargs)

    return engine_generate(use_case=use_case, version=version, payload=payload, purpose=purpose, call=call,
                           entry=processors.processor_get(tenant=use_case.tenant, key=version.processor_key))



def llm_call_record(*, tenant, processor_key: str, model: str, prompt_hash: str, status: str,
                    prompt_masked: str = "", item_id=None, use_case=None, prompt_version=None,
                    purpose: str = "run", http_status: int | None = None, attempts: int = 0, latency_ms: int = 0,
                    prompt_tokens: int | None = None, completion_tokens: int | None = None, error: str = "",
                    actor=SYSTEM) -> LlmCall:
    """One row per provider call: tokens and latency for the figures, the prompt as a hash (and
    masked, where the use case allows). Written outside the pipeline's transactions, as the call
    happened, whatever becomes of the run."""
    return LlmCall.objects.create(
        tenant=tenant, item_id=item_id, use_case=use_case, prompt_version=prompt_version,
        processor_key=processor_key, model=model[:120], purpose=purpose, prompt_hash=prompt_hash,
        prompt_masked=prompt_masked, status=status, http_status=http_status, attempts=attempts,
        latency_ms=max(0, latency_ms), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
        error=error[:2000], requested_by=as_actor(actor).user)
