"""The engine interface the pipeline calls. Engines run outside database transactions and never write:
given an item's input and one engine configuration of the release, they return per output field a
suggestion (value, confidence in [0, 1], explanation), plus reasons for anything they could not do."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol


@dataclass(frozen=True)
class FieldSuggestion:
    field: str
    value: Any  # JSON-serialisable; decimals as strings, dates as ISO strings
    confidence: float
    explanation: str
    engine: str

    def __post_init__(self):
        if not 0.0 <= float(self.confidence) <= 1.0:
            raise ValueError(f"confidence {self.confidence} of {self.field} lies outside [0, 1]")


@dataclass
class EngineResult:
    suggestions: list[FieldSuggestion] = field(default_factory=list)
    # Reasons a person must see (validation hints, "no text layer", "not an invoice"); never raised.
    reasons: list[str] = field(default_factory=list)
    # The item cannot be processed further by machines (unreadable, not the expected document):
    # it goes to the use case's clarification queue with the reasons.
    needs_clarification: bool = False
    meta: dict = field(default_factory=dict)


@dataclass
class InputFile:
    name: str
    content_type: str
    path: Path

    def read(self) -> bytes:
        return self.path.read_bytes()


@dataclass
class EngineInput:
    tenant_id: int
    use_case_key: str
    payload: dict  # input fields
    files: list[InputFile]
    output_fields: list[dict]  # the use case's output field specs
    # Optional resolver for master data: lookup("supplier", vat_id=..., iban=...) -> dict | None
    lookup: Callable[..., dict | None] | None = None


class Engine(Protocol):
    key: str

    def suggest(self, item: EngineInput, *, parameters: dict, artifact_ref: str = "") -> EngineResult: ...


_ENGINES: dict[str, Callable[[], Engine]] = {}


def register_engine(key: str):
    def decorate(factory):
        if key in _ENGINES:
            raise ValueError(f"engine {key!r} registered twice")
        _ENGINES[key] = factory
        return factory

    return decorate


def get_engine(key: str) -> Engine:
    if key not in _ENGINES:
        import importlib

        importlib.import_module(f"automations.engines.{key}")
    return _ENGINES[key]()
