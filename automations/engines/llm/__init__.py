"""The language model engine (any OpenAI-compatible chat-completions provider); importing the package
registers it as engine "llm"."""
from automations.engines.llm.engine import LlmEngine, generate

__all__ = ["LlmEngine", "generate"]
