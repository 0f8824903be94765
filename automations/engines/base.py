"""The engine interface the pipeline calls. Engines run outside database transactions and never write:
given an item's input and one engine configuration of the release, they return per output field a
suggestion (value, confidence in [0, 1], explanation), plus reasons for anything they could not do.

Engines import no models, services or selectors (an import-linter contract keeps it so): whatever they need
from the database, and every record of what they did (a provider call), comes through the EngineServices
the execution layer passes in with the input."""
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


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


class StepError(Exception):
    """An engine or a pipeline step failed in a way a retry may fix (engine timeout, provider down): the run
    is retried with backoff, then escalated."""


class EngineServices(Protocol):
    """What an engine may ask of the layer that runs it (automations.execution.services.engine_services)."""

    def classifier(self, *, artifact_ref: str) -> tuple[Any, dict]:
        """The classifier version an engine configuration names (its id) and its loaded bundle."""

    def use_case(self) -> Any:
        """The item's use case (documentation, field schema, store_masked_prompts)."""

    def prompt_version(self, *, parameters: dict) -> Any | None:
        """The submitted prompt template version an llm engine configuration runs, or None."""

    def processor(self, *, key: str) -> Any | None:
        """The tenant's active catalogue entry of a processor, or None."""

    def provider_call(self, *, entry, body: dict, version, prompt_hash: str, stored_text: str, purpose: str) -> Any:
        """One provider call, circuit breaker asked first and the call recorded; raises StepError when the
        provider gave no usable answer."""


@dataclass
class EngineInput:
    tenant_id: int
    use_case_key: str
    payload: dict  # input fields
    files: list[InputFile]
    output_fields: list[dict]  # the use case's output field specs
    # Optional resolver for master data: lookup("supplier", vat_id=..., iban=...) -> dict | None
    lookup: Callable[..., dict | None] | None = None
    # Reads and records on the engine's behalf (see EngineServices); None where an engine needs none.
    services: EngineServices | None = None
    # The files as the document stage read them (automations.documents.reading.ReadDocument), in the
    # order of `files`; empty when the stage did not run (engines then read the files themselves).
    documents: list = field(default_factory=list)


class Engine(Protocol):
    key: str

    def suggest(self, item: EngineInput, *, parameters: dict, artifact_ref: str = "") -> EngineResult: ...


_ENGINES: dict[str, Callable[[], Engine]] = {}

# The files each engine can read, by content type as portal.files.sniff judges the content. Intake
# refuses any other file for a use case whose releases run only these engines. Scans (raster images)
# are accepted everywhere: the engines say they need manual entry and a clerk keys them in.
_SCANS = frozenset({"image/png", "image/jpeg", "image/tiff", "image/gif", "image/webp"})
_TEXT_DOCUMENTS = frozenset({"application/pdf", "text/plain", "application/xml", "message/rfc822"}) | _SCANS
ENGINE_FILE_TYPES: dict[str, frozenset[str]] = {
    # An invoice also arrives as an e-mail with the invoice attached (the document stage reads the attachment).
    "invoice": frozenset({"application/pdf", "application/xml", "message/rfc822"}) | _SCANS,
    "rules": _TEXT_DOCUMENTS,
    "classifier": _TEXT_DOCUMENTS,
    "llm": _TEXT_DOCUMENTS,
}
# A use case without any release yet accepts the documents every engine reads.
DEFAULT_FILE_TYPES = _TEXT_DOCUMENTS


def register_engine(key: str):
    def decorate(factory):
        if key in _ENGINES:
            raise ValueError(f"engine {key!r} registered twice")
        _ENGINES[key] = factory
        return factory

    return decorate


def get_engine(key: str) -> Engine:
    if key not in _ENGINES:
        importlib.import_module(f"automations.engines.{key}")
    return _ENGINES[key]()
