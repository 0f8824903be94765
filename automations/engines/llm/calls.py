"""One provider call as the engine and the playground make it: the circuit breaker asked first, the
HTTP client, then the call recorded (tokens, latency, prompt hash) and the breaker told the outcome.
Runs outside any transaction; each record is its own short write."""
from dataclasses import dataclass

from django.utils.translation import gettext as _

from automations.engines.llm.client import ChatClient, Completion, Provider, ProviderError
from automations.execution.models.llm_calls import LlmCallStatus
from automations.execution.pipeline.context import StepError
from automations.execution.services import llm_calls
from automations.registry.services import processors


class ProviderUnavailable(StepError):
    """No answer from the processor (down, too slow, refusing, circuit open): a retry may fix it."""


@dataclass
class CallContext:
    """Who the call is for: recorded with it."""

    tenant: object
    use_case: object
    version: object  # PromptTemplateVersion
    item_id: object = None
    actor: object = None
    store_masked: bool = False


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


def call(*, entry, body: dict, context: CallContext, prompt_hash: str, stored_text: str,
         purpose: str = "run") -> Completion:
    record = dict(tenant=context.tenant, processor_key=entry.key, model=body.get("model", ""),
                  prompt_hash=prompt_hash, prompt_masked=stored_text if context.store_masked else "",
                  item_id=context.item_id, use_case=context.use_case, prompt_version=context.version,
                  purpose=purpose, actor=context.actor)
    provider = provider_for(entry)
    if not processors.processor_circuit_allow(entry=entry):
        llm_calls.llm_call_record(status=LlmCallStatus.CIRCUIT_OPEN, **record)
        raise ProviderUnavailable(_("Processor %(p)s is paused after repeated failures (circuit breaker open); "
                                    "IT has been told.") % {"p": entry.key})
    try:
        completion = ChatClient(provider).complete(body)
    except ProviderError as exc:
        llm_calls.llm_call_record(status=LlmCallStatus.FAILED, http_status=exc.http_status, attempts=exc.attempts,
                                   latency_ms=exc.latency_ms, error=str(exc), **record)
        processors.processor_circuit_record(entry=entry, ok=False, error=str(exc))
        raise ProviderUnavailable(_("Processor %(p)s gave no usable answer: %(e)s") % {"p": entry.key, "e": exc}) \
            from None
    llm_calls.llm_call_record(status=LlmCallStatus.OK, http_status=completion.http_status,
                               attempts=completion.attempts, latency_ms=completion.latency_ms,
                               prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens,
                               **record)
    processors.processor_circuit_record(entry=entry, ok=True)
    return completion
