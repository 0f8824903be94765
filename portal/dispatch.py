"""Domain events between layers: how a lower layer lets a higher one act without importing it.

A lower layer *declares* what it announces (``declare``, once, in its ``events.py``) and *emits* it where
it happens (``emit``); a higher layer *connects* handlers (``connect``) in its ``AppConfig.ready``. Handlers
run synchronously, in registration order, inside the emitter's transaction, so what they write commits or
rolls back with the change that caused it; anything that must wait for the commit (a Celery task, an
e-mail) the handler sends with ``transaction.on_commit`` itself.

This is deliberately not Django's signals: names are declared and documented in one place, emitting an
undeclared name or connecting to one raises, and an announcement that must be acted upon (``required``) raises
when nobody listens, so an item routed to review is never silently dropped. docs/architecture.md lists every
declared event with its emitter and handlers.
"""
from collections.abc import Callable
from dataclasses import dataclass, field


class DispatchError(RuntimeError):
    pass


@dataclass
class _Event:
    name: str
    description: str
    required: bool
    handlers: list[Callable[..., object]] = field(default_factory=list)


_EVENTS: dict[str, _Event] = {}


def declare(name: str, description: str, *, required: bool = False) -> None:
    """Declare an event a layer emits. `required`: emitting it with no handler connected raises."""
    if name in _EVENTS:
        raise DispatchError(f"event {name!r} declared twice")
    _EVENTS[name] = _Event(name=name, description=description, required=required)


def _event(name: str) -> _Event:
    try:
        return _EVENTS[name]
    except KeyError:
        raise DispatchError(f"event {name!r} was never declared") from None


def connect(name: str, handler: Callable[..., object]) -> None:
    """Connect a handler (called with the emitter's keyword arguments); connecting the same one twice is
    ignored, so an app's ready() may run more than once (as in some test runners) without doubling effects."""
    event = _event(name)
    if handler not in event.handlers:
        event.handlers.append(handler)


def emit(name: str, **payload) -> list:
    """Call every handler of the event; returns what they returned, in the order they were connected."""
    event = _event(name)
    if event.required and not event.handlers:
        raise DispatchError(f"nobody handles {name!r}")
    return [handler(**payload) for handler in list(event.handlers)]


def declared() -> dict[str, tuple[str, bool, list[str]]]:
    """Every declared event: description, whether required, and its handlers by dotted name."""
    return {e.name: (e.description, e.required, [f"{h.__module__}.{h.__qualname__}" for h in e.handlers])
            for e in sorted(_EVENTS.values(), key=lambda e: e.name)}
