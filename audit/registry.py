"""Every audit event type is registered exactly once; recording an unregistered type raises."""
import re
from dataclasses import dataclass

_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class UnregisteredEventType(LookupError):
    pass


class DuplicateEventType(ValueError):
    pass


@dataclass(frozen=True)
class EventType:
    key: str
    description: str


_registry: dict[str, EventType] = {}


def register(key: str, description: str) -> EventType:
    if not _TYPE_PATTERN.match(key):
        raise ValueError(f"Audit event types are '<noun>.<past_verb>', not {key!r}.")
    if key in _registry:
        raise DuplicateEventType(f"The audit event type {key!r} is registered twice.")
    _registry[key] = EventType(key=key, description=description)
    return _registry[key]


def get(key: str) -> EventType:
    try:
        return _registry[key]
    except KeyError:
        raise UnregisteredEventType(f"The audit event type {key!r} is not registered.") from None


def all_types() -> list[EventType]:
    return sorted(_registry.values(), key=lambda t: t.key)
