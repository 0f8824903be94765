"""Language model calls as execution records: one row per provider call, written as the call happened
(outside the pipeline's transactions), whatever becomes of the run."""
from audit.actors import as_actor
from automations.models import LlmCall


def llm_call_record(*, tenant, processor_key: str, model: str, prompt_hash: str, status: str,
                    prompt_masked: str = "", item_id=None, use_case=None, prompt_version=None,
                    purpose: str = "run", http_status: int | None = None, attempts: int = 0, latency_ms: int = 0,
                    prompt_tokens: int | None = None, completion_tokens: int | None = None, error: str = "",
                    actor=None) -> LlmCall:
    """One row per provider call: tokens and latency for the figures, the prompt as a hash (and
    masked, where the use case allows). Written outside the pipeline's transactions, as the call
    happened, whatever becomes of the run."""
    return LlmCall.objects.create(
        tenant=tenant, item_id=item_id, use_case=use_case, prompt_version=prompt_version,
        processor_key=processor_key, model=model[:120], purpose=purpose, prompt_hash=prompt_hash,
        prompt_masked=prompt_masked, status=status, http_status=http_status, attempts=attempts,
        latency_ms=max(0, latency_ms), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
        error=error[:2000], requested_by=as_actor(actor).user)
