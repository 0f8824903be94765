"""Who did it: a user in a browser session, a user's API token, or the system (beat, worker, migrations)."""
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied

from portal.models import ApiToken


@dataclass(frozen=True)
class Actor:
    user: Any = None  # django.contrib.auth user
    token: Any = None  # portal.ApiToken

    @property
    def kind(self) -> str:
        if self.token is not None:
            return "token"
        if self.user is not None:
            return "user"
        return "system"

    @property
    def is_person(self) -> bool:
        """A person in a browser session: only they may approve changes or decide review tasks."""
        return self.kind == "user"

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    def __str__(self) -> str:
        if self.kind == "system":
            return "system"
        if self.kind == "token":
            return f"{self.user} (API token {self.token.prefix})"
        return str(self.user)


# The system acts only where a task, a command or the pipeline names it: `actor=SYSTEM`, never by omission.
SYSTEM = Actor()


class MissingActor(TypeError):
    """A service was called without saying who acts: a programming error, never a default to the system."""


def as_actor(value: Any) -> Actor:
    """Services accept a user or an Actor (SYSTEM for the system). None is refused: an actor that got lost
    on its way must not turn into the one that may do everything."""
    if value is None:
        raise MissingActor("No actor given: pass the acting user, or SYSTEM for tasks and commands.")
    if isinstance(value, Actor):
        return value
    if not getattr(value, "is_authenticated", False):
        raise MissingActor("An anonymous user cannot act.")
    return Actor(user=value)


def actor_from_request(request: Any) -> Actor:
    """The person or token behind a request. An anonymous request is refused (403), never the system."""
    token = getattr(request, "auth", None)
    user = getattr(request, "user", None)
    if isinstance(token, ApiToken) and user is not None and user.is_authenticated:
        return Actor(user=user, token=token)
    if user is not None and user.is_authenticated:
        return Actor(user=user)
    raise PermissionDenied("Sign in first.")
