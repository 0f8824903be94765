"""Engines return suggestions with a confidence and an explanation; routing decides what happens."""
from automations.engines.base import EngineInput, EngineResult, FieldSuggestion, get_engine, register_engine

__all__ = ["EngineInput", "EngineResult", "FieldSuggestion", "get_engine", "register_engine"]
