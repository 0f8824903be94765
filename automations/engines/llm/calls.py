"""What the engine needs to know about a provider call that the execution layer makes for it
(automations.execution.services.llm_calls): the error it raises when the provider gives no usable answer,
and the purposes a call is recorded with."""
from automations.engines.base import StepError

# LlmCall.purpose: the first call of a run, the repair attempt, a self-consistency sample, the playground.
PURPOSE_RUN, PURPOSE_REPAIR, PURPOSE_SAMPLE, PURPOSE_PLAYGROUND = "run", "repair", "sample", "playground"


class ProviderUnavailable(StepError):
    """No answer from the processor (down, too slow, refusing, circuit open): a retry may fix it."""
