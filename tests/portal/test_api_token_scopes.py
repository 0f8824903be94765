"""API tokens do what their scopes name (within their user's permissions), live at most
API_TOKEN_MAX_DAYS, stop at once when revoked, and are throttled per token and per address."""
import os
import time

import pytest
from django.core.cache import cache, caches
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from portal import services
from portal.choices import Role, TokenScope
from tests.automations.factories import make_use_case

pytestmark = pytest.mark.django_db


def bearer(user, tenant, scopes) -> tuple[APIClient, object]:
    token, plain = services.api_token_create(actor=user, tenant=tenant, user=user, name="t", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client, token


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def test_a_read_token_reads_but_cannot_create(tenant, team):
    lead = team[Role.AUTOMATION_LEAD]
    use_case = make_use_case(tenant, lead, key="belege")
    reader, _ = bearer(lead, tenant, [TokenScope.READ])

    assert reader.get(reverse("api:me")).status_code == 200
    assert reader.get(reverse("api:use-case-detail", args=[use_case.key])).status_code == 200
    refused = reader.post(reverse("api:work-item-list"), {"use_case": use_case.key, "payload": {"text": "x"}},
                          format="json")
    assert refused.status_code == 403 and "intake" in refused.json()["detail"]
    assert reader.post(reverse("api:use-case-list"), {"key": "neu"}, format="json").status_code == 403


def test_each_write_needs_its_scope(tenant, team):
    lead = team[Role.AUTOMATION_LEAD]
    make_use_case(tenant, lead, key="belege")
    intake, _ = bearer(lead, tenant, [TokenScope.INTAKE])
    writer, _ = bearer(lead, tenant, [TokenScope.REGISTRY_WRITE])

    assert intake.get(reverse("api:me")).status_code == 403  # no `read`
    assert intake.post(reverse("api:use-case-list"), {"key": "neu"}, format="json").status_code == 403
    created = writer.post(reverse("api:use-case-list"), {"key": "neu"}, format="json")
    assert created.status_code != 403  # past the scope check: the service judges the content


def test_data_protection_acts_need_their_own_scope(tenant, team):
    dsb = team[Role.DATA_PROTECTION_OFFICER]
    reader, _ = bearer(dsb, tenant, [TokenScope.READ])
    url = reverse("api:subject-request-list")
    body = {"kind": "access", "identifier": "erika@example.org"}
    assert reader.post(url, body, format="json").status_code == 403
    dsb_token, _ = bearer(dsb, tenant, [TokenScope.DATA_PROTECTION])
    assert dsb_token.post(url, body, format="json").status_code != 403


def test_scopes_must_be_known_and_the_lifetime_is_capped(tenant, team, settings):
    lead = team[Role.AUTOMATION_LEAD]
    with pytest.raises(ValidationError):
        services.api_token_create(actor=lead, tenant=tenant, user=lead, name="t", scopes=["approve"])
    with pytest.raises(ValidationError):
        services.api_token_create(actor=lead, tenant=tenant, user=lead, name="t", scopes=[])
    with pytest.raises(ValidationError):
        services.api_token_create(actor=lead, tenant=tenant, user=lead, name="t", days=settings.API_TOKEN_MAX_DAYS + 1)
    with pytest.raises(CommandError, match="at most 366"):
        call_command("create_api_token", lead.username, "--tenant", tenant.slug, "--days", "400")
    token, _ = services.api_token_create(actor=lead, tenant=tenant, user=lead, name="t", days=366,
                                         scopes=[TokenScope.READ])
    assert token.scopes == ["read"]
    created = AuditEvent.objects.filter(event_type="api_token.created").last()
    assert created.details["scopes"] == ["read"]


def test_the_command_names_scopes(tenant, team, capsys):
    lead = team[Role.AUTOMATION_LEAD]
    call_command("create_api_token", lead.username, "--tenant", tenant.slug, "--scope", "read",
                 "--scope", "registry:write")
    assert lead.api_tokens.get().scopes == ["read", "registry:write"]


def test_a_revoked_token_stops_at_once(tenant, team):
    lead = team[Role.AUTOMATION_LEAD]
    client, token = bearer(lead, tenant, [TokenScope.READ])
    assert client.get(reverse("api:me")).status_code == 200
    assert client.post(reverse("api:api-token-revoke", args=[token.pk])).status_code == 200  # any scope may
    assert client.get(reverse("api:me")).status_code == 401


def test_requests_beyond_the_rate_per_token_get_429(tenant, team, settings):
    settings.API_THROTTLE_RATES = {"token": "3/minute", "address": "100/minute"}
    lead = team[Role.AUTOMATION_LEAD]
    first, _ = bearer(lead, tenant, [TokenScope.READ])
    second, _ = bearer(lead, tenant, [TokenScope.READ])
    assert [first.get(reverse("api:me")).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get(reverse("api:me")).status_code == 200  # another token has its own count
    assert "Retry-After" in first.get(reverse("api:me")).headers


def test_requests_beyond_the_rate_per_address_get_429(tenant, team, settings):
    settings.API_THROTTLE_RATES = {"token": "100/minute", "address": "3/minute"}
    lead = team[Role.AUTOMATION_LEAD]
    clients = [bearer(lead, tenant, [TokenScope.READ])[0] for _ in range(4)]
    codes = [client.get(reverse("api:me"), REMOTE_ADDR="10.2.3.4").status_code for client in clients]
    assert codes == [200, 200, 200, 429]
    assert clients[0].get(reverse("api:me"), REMOTE_ADDR="10.2.3.5").status_code == 200


def test_retry_after_names_the_seconds_until_the_window_ends(tenant, team, settings):
    settings.API_THROTTLE_RATES = {"token": "2/minute", "address": "100/minute"}
    reader, _ = bearer(team[Role.AUTOMATION_LEAD], tenant, [TokenScope.READ])
    assert [reader.get(reverse("api:me")).status_code for _ in range(2)] == [200, 200]
    refused = reader.get(reverse("api:me"))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_the_counts_cost_the_same_whatever_the_rate(tenant, team, settings):
    """One number per key and window, not the time of every request of the window (DRF's default)."""
    settings.API_THROTTLE_RATES = {"token": "100000/minute", "address": "100000/minute"}
    reader, token = bearer(team[Role.AUTOMATION_LEAD], tenant, [TokenScope.READ])
    for _ in range(5):
        assert reader.get(reverse("api:me")).status_code == 200
    window = int(time.time() // 60)
    assert cache.get(f"throttle:token:token-{token.pk}:{window}") in (5, None)  # None: the minute just turned
    assert cache.get(f"throttle:token:token-{token.pk}:{window}") != []


@pytest.fixture
def redis_cache(settings):
    """The API's counters in a real Redis (production's CACHE_URL): both counted in one round trip."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {url} (set TEST_REDIS_URL)")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                                   "KEY_PREFIX": f"throttle-test-{os.getpid()}"}}
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


def test_on_redis_requests_beyond_either_rate_get_429(tenant, team, settings, redis_cache):
    settings.API_THROTTLE_RATES = {"token": "3/minute", "address": "5/minute"}
    lead = team[Role.AUTOMATION_LEAD]
    first, token = bearer(lead, tenant, [TokenScope.READ])
    second, _ = bearer(lead, tenant, [TokenScope.READ])
    assert [first.get(reverse("api:me")).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert redis_cache.get(f"throttle:token:token-{token.pk}:{int(time.time() // 60)}") in (4, None)
    # The address has seen 4 requests: one more passes, the next is over its rate whatever the token.
    assert [second.get(reverse("api:me")).status_code for _ in range(2)] == [200, 429]
    assert "Retry-After" in second.get(reverse("api:me")).headers


def test_the_token_list_shows_the_scopes(client, tenant, team):
    lead = team[Role.AUTOMATION_LEAD]
    client.force_login(lead)
    response = client.post(reverse("portal:api-token-create"), {"name": "ERP", "days": 90, "scopes": ["read"]})
    assert response.status_code == 200
    assert lead.api_tokens.get().scopes == ["read"]
    assert "<code>read</code>" in client.get(reverse("portal:api-tokens")).content.decode()


def test_every_api_write_names_its_scope_or_is_closed_to_tokens():
    """A write endpoint added without `token_scopes` is closed to tokens (fail closed); the known ones name
    theirs. No scope belongs to deciding review tasks or approving changes: there are no such endpoints."""
    from django.urls import get_resolver

    from portal.api.authentication import scope_required

    unsafe = {}

    def walk(patterns, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if hasattr(entry, "url_patterns"):
                walk(entry.url_patterns, route)
                continue
            view = getattr(entry.callback, "cls", None)
            actions = getattr(entry.callback, "actions", None) or {}
            if not route.startswith("api/v1/") or view is None:
                continue
            if not actions:  # a plain API view: its methods
                actions = {m: m for m in ("post", "put", "patch", "delete") if hasattr(view, m)}
            for method, action in actions.items():
                if method in ("post", "put", "patch", "delete"):
                    instance = view()
                    if getattr(entry.callback, "actions", None):
                        instance.action_map, instance.action = entry.callback.actions, action
                    unsafe[f"{entry.name}:{action}"] = scope_required(instance, method.upper())

    walk(get_resolver().url_patterns)
    assert unsafe and None not in unsafe.values()
    assert "decide" not in " ".join(unsafe) and "approve" not in " ".join(unsafe)
