"""The access matrix every area's tests share: a row per URL and method, signing in with a tenant chosen,
the answers a row expects (anonymous: the log-in page; without the permission: 403; permitted: the page or
the redirect after a write; another tenant's object: 404), a check that no URL lacks a row, and API clients
with a bearer token. Each area keeps its own rows and the world they run in."""
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from audit.actors import SYSTEM
from portal import services
from portal.middleware import SESSION_TENANT_KEY


@dataclass(frozen=True)
class Row:
    """One URL with one method. Areas add what their rows need (who is permitted, which object)."""

    url_name: str
    method: str = "get"
    permission: str | None = None  # None: every member of the active tenant may
    obj: str | None = None  # which of the world's objects the URL (or the form) names
    ok: int = 200  # what a permitted member gets
    data: Any = field(default_factory=dict)  # the request's data: a dict, or a function of the world giving one

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.url_name}"

    def payload(self, world=None) -> dict:
        return self.data(world) if callable(self.data) else dict(self.data)


def row_id(row: Row) -> str:
    """The test id of a row (pytest.mark.parametrize(..., ids=row_id))."""
    return row.id


def send(client, row: Row, url: str, world=None, data: dict | None = None):
    """The row's request to `url` with the row's data (or `data`)."""
    return getattr(client, row.method)(url, row.payload(world) if data is None else data)


def login(client: Client, user, tenant, *, language: str | None = None) -> Client:
    """Sign `user` in with `tenant` as the session's active tenant, as the tenant switch does; `language`
    chooses the pages' language as the language switch does."""
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    session = client.session
    session[SESSION_TENANT_KEY] = tenant.pk
    session.save()
    return client


def assert_sent_to_login(response) -> None:
    """An anonymous request stopped before the view: redirected to the log-in page."""
    assert response.status_code == 302, response.status_code
    assert urlsplit(response["Location"]).path == reverse("portal:login")


def urls_without_row(names: Iterable[str], rows: Iterable[Row], namespace: str = "") -> set[str]:
    """The URL names (without namespace) that no row covers: a new URL needs its row in the matrix."""
    prefix = f"{namespace}:" if namespace else ""
    return set(names) - {row.url_name.removeprefix(prefix) for row in rows}


def bearer(user, tenant, *, name: str = "test", scopes: list[str] | None = None) -> APIClient:
    """An API client with a new token of `user` in `tenant` (the default scopes unless `scopes` is given)."""
    kwargs: dict[str, Any] = {"scopes": scopes} if scopes is not None else {}
    _token, plain = services.api_token_create(actor=user, tenant=tenant, user=user, name=name, **kwargs)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def same_team_in(other, team: dict, tenant) -> None:
    """Give every member of `team` the same roles in `other` as in `tenant`: then only the active tenant
    separates the two tenants' objects."""
    for user in team.values():
        services.membership_create(actor=SYSTEM, tenant=other, user=user,
                                   roles=list(user.memberships.get(tenant=tenant).roles))
