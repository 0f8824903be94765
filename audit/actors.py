"""Who did it: a user in a browser session, a user's API token, or the system (beat, worker, migrations)."""
from dataclasses import dataclass
from typing import Any

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


SYSTEM = Actor()


def as_actor(value: Any) -> Actor:
    """Services accept a user, an Actor, or None for the system."""
    if value is None:
        return SYSTEM
    if isinstance(value, Actor):
        return value
    return Actor(user=value)


def actor_from_request(request: Any) -> Actor:
    token = getattr(request, "auth", None)

    if isinstance(token, ApiToken):
        return Actor(user=request.user, token=token)
    if request.user.is_authenticated:
        return Actor(user=request.user)
    return SYSTEM
