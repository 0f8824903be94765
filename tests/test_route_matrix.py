"""The route matrix: every URL pattern of the portal and its API, found through Django's resolver (not a
hand-kept list), is classified here; a new route without an entry fails. Anonymous requests, with every
method, never reach a view that needs a sign-in; a user of another tenant finds no row of this tenant on
any list page or list endpoint; nothing answers 500."""
import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, UUIDConverter
from rest_framework.test import APIClient

from audit.actors import SYSTEM
from portal import services
from portal.choices import Role, TokenScope
from portal.middleware import SESSION_TENANT_KEY
from tests.reviews.world import world  # noqa: F401  (two tenants with use cases, queues and tasks)

pytestmark = pytest.mark.django_db

# Reachable without signing in: the sign-in page, the language switch, liveness, the API's schema and
# documentation, the API's answer for unknown paths ("" is its catch-all), and the Demo-ERP's webhook receiver
# (outside production; the signature is its proof), and the icon browsers ask for.
PUBLIC = {"", "api-docs", "api-redoc", "api-schema", "demo:erp-hooks", "favicon", "operations:health-live",
          "portal:login", "set_language"}
# Monitoring: a bearer token of its own (401 without), or a signed-in superuser.
MONITORING = {"operations:health", "operations:metrics"}
# Pages: a sign-in first (anonymous requests are sent to the login page, whatever the method).
SIGN_IN = {
    "audit:access-request-create", "audit:erasure", "audit:event-detail", "audit:event-export", "audit:event-list",
    "audit:home", "audit:legal-hold-lift", "audit:legal-holds", "audit:processing-records",
    "audit:processing-records-pdf", "audit:pseudonym-reveal", "audit:request-action", "audit:request-detail",
    "audit:request-export", "audit:request-list", "audit:restricted-items", "audit:verification-start",
    "audit:works-council", "automations:catalogue", "automations:catalogue-change",
    "automations:change-request-decide", "automations:change-request-detail", "automations:change-request-inbox",
    "automations:change-request-list", "automations:change-request-withdraw", "automations:classifier-version-detail",
    "automations:connectors", "automations:delivery-redeliver", "automations:classifier-version-list",
    "automations:classifier-version-propose", "automations:label-move-create", "automations:playground",
    "automations:playground-use-case", "automations:procedure-document", "automations:procedure-document-pdf",
    "automations:registry-export", "automations:registry-import", "automations:release-create",
    "automations:release-detail", "automations:status-change-create", "automations:tenant-policy",
    "automations:tenant-policy-change", "automations:tenant-policy-update", "automations:training",
    "automations:training-progress", "automations:training-start", "automations:training-upload",
    "automations:use-case-create", "automations:use-case-detail", "automations:use-case-history",
    "automations:use-case-list", "automations:use-case-suspend", "automations:use-case-update",
    "automations:use-case-review-list", "automations:use-case-review-detail", "automations:quality-breaker-reset",
    "automations:version-create", "automations:version-detail", "automations:version-diff",
    "automations:version-list", "automations:version-submit", "automations:test-case-from-item",
    "automations:test-case-list", "automations:test-case-create", "automations:test-case-import",
    "automations:test-case-detail", "automations:test-case-retire", "automations:evaluation-start",
    "automations:evaluation-compare", "automations:evaluation-detail", "automations:evaluation-progress", "demo:erp",
    "demo:invoice-file", "demo:invoices",
    "demo:invoices-send", "leitstand:export", "leitstand:home", "leitstand:use-case", "leitstand:use-case-export",
    "portal:api-token-create", "portal:api-token-revoke", "portal:api-tokens", "portal:home",
    "portal:logout", "portal:member-create", "portal:member-deactivate", "portal:member-edit", "portal:members",
    "portal:tenant-switch", "portal:two-factor", "portal:two-factor-setup", "portal:two-factor-verify",
    "portal:two-factor-recovery-codes", "portal:login-security", "portal:login-unlock", "portal:second-factor-reset",
    "reviews:briefing", "reviews:briefing-confirm", "reviews:oversight",
    "reviews:queue-bulk-approve", "reviews:queue-detail", "reviews:queue-list", "reviews:queue-next",
    "reviews:task-claim", "reviews:task-decide", "reviews:task-detail", "reviews:task-file", "reviews:task-file-page",
    "reviews:task-release", "reviews:trainings", "work:dry-run", "work:escalation-action", "work:escalations",
    "work:item-detail", "work:item-file", "work:item-list", "work:master-data", "work:upload",
}
# The API: a token or a session (401/403 without).
API = {
    "api:access-event-detail", "api:access-event-list", "api:api-token-detail", "api:api-token-list",
    "api:api-token-revoke", "api:audit-event-detail", "api:audit-event-list", "api:audit-export",
    "api:audit-verification", "api:catalogue-entry-detail", "api:catalogue-entry-list", "api:connector-list",
    "api:delivery-list", "api:delivery-redeliver", "api:change-request-detail", "api:change-request-list",
    "api:change-request-withdraw", "api:classifier-version-detail", "api:classifier-version-list",
    "api:classifier-version-propose-thresholds", "api:engine-config-version-detail", "api:engine-config-version-list",
    "api:engine-config-version-submit", "api:guardrail-set-version-detail", "api:guardrail-set-version-list",
    "api:guardrail-set-version-submit", "api:leitstand", "api:legal-hold-lift", "api:legal-hold-list", "api:me",
    "api:membership-detail", "api:membership-list", "api:processing-records", "api:prompt-template-version-detail",
    "api:prompt-template-version-list", "api:prompt-template-version-submit", "api:registry-export",
    "api:registry-import", "api:release-detail", "api:release-list", "api:review-queue-detail",
    "api:review-queue-list", "api:review-queue-next", "api:review-task-claim", "api:review-task-detail",
    "api:review-task-list", "api:review-task-release", "api:subject-request-action", "api:subject-request-detail",
    "api:subject-request-answer-pdf", "api:subject-request-export", "api:subject-request-list",
    "api:threshold-set-version-detail",
    "api:threshold-set-version-list", "api:threshold-set-version-submit", "api:use-case-detail",
    "api:use-case-examples", "api:use-case-list", "api:use-case-suspend", "api:use-case-training",
    "api:work-item-acknowledge", "api:work-item-deliveries", "api:work-item-detail", "api:work-item-list",
    "api:works-council",
    "api:threshold-backtest-list", "api:threshold-backtest-detail", "api:use-case-threshold-backtest",
    "api:quality-breaker-list", "api:quality-breaker-detail", "api:use-case-review-list",
    "api:use-case-review-detail", "api:use-case-review-complete",
    "api:test-case-list", "api:test-case-detail", "api:evaluation-list", "api:evaluation-detail",
    "api:use-case-test-case-import", "api:release-evaluation-start",
}
METHODS = ("get", "post", "put", "patch", "delete")


def routes() -> list[tuple[str, str, URLPattern]]:
    """(name with namespace, route, pattern) of every URL pattern except Django's admin (its own login)."""
    found = []

    def walk(patterns, prefix="", namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            else:
                found.append((f"{namespace}{entry.name}" if entry.name else "", prefix + str(entry.pattern), entry))

    walk(get_resolver().url_patterns)
    return [(name, route, pattern) for name, route, pattern in found if not route.startswith("admin/")]


def sample_path(route: str, pattern: URLPattern) -> str:
    """A concrete path for a route: each parameter filled with a value its converter accepts."""
    if route.startswith("^"):  # the API's catch-all for unknown paths
        return "/" + route.strip("^$") + "nothing-here/"
    # DRF's router writes regular expressions: named groups get a value, anchors go.
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)",
                  lambda m: "987654" if m.group(1) in ("pk", "id", "sequence", "number") else "x", route)
    path = path.replace("^", "").replace("$", "")
    for name, converter in pattern.pattern.converters.items():
        if isinstance(converter, IntConverter):
            value = "987654"
        elif isinstance(converter, UUIDConverter):
            value = str(uuid.uuid4())
        elif "|" in converter.regex:
            value = converter.regex.split("|")[0]
        else:
            value = "x"
        path = path.replace(f"<{type(converter).__name__}:{name}>", value)
        start = path.index("<") if "<" in path else -1
        if start >= 0:
            end = path.index(">", start)
            path = path[:start] + value + path[end + 1:]
    return "/" + path


def test_every_route_has_an_entry_in_the_matrix():
    names = {name for name, _route, _pattern in routes()}
    classified = PUBLIC | MONITORING | SIGN_IN | API
    assert names - classified == set(), "new routes: add them to the matrix"
    assert classified - names == set(), "routes that no longer exist: remove them from the matrix"
    for group in (PUBLIC, MONITORING, SIGN_IN, API):
        assert not group & (classified - group - set().union(*(g for g in (PUBLIC, MONITORING, SIGN_IN, API)
                                                              if g is not group)))


def test_anonymous_requests_stop_before_any_view_with_every_method(client):
    for name, route, pattern in routes():
        path = sample_path(route, pattern)
        for method in METHODS:
            response = getattr(client, method)(path)
            where = f"{method.upper()} {path} ({name})"
            assert response.status_code != 500, where
            if name in SIGN_IN:
                assert response.status_code == 302 and response["Location"].startswith("/login/"), where
            elif name in API:
                assert response.status_code in (401, 403), where
            elif name in MONITORING:
                assert response.status_code in (401, 405), where


@pytest.fixture
def stranger(world, make_user):  # noqa: F811
    """A member of the other tenant holding every role there: sees much, but nothing of `muster`."""
    user = make_user("fremde_person", tenant=world["other"], roles=list(Role.values))
    return user


def test_a_user_of_another_tenant_finds_no_row_of_this_tenant_on_any_list(client, world, stranger):  # noqa: F811
    own_marker, foreign_marker = world["use_case"].key, world["other_use_case"].key
    client.force_login(stranger)
    session = client.session
    session[SESSION_TENANT_KEY] = world["other"].pk
    session.save()
    _token, plain = services.api_token_create(actor=stranger, tenant=world["other"], user=stranger, name="m",
                                              scopes=[TokenScope.READ])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")

    seen_foreign = False
    for name, route, pattern in routes():
        if pattern.pattern.converters or name not in SIGN_IN | API or route.endswith((".pdf", "export/")):
            continue
        response = (api if name in API else client).get("/" + route)
        body = response.content.decode(errors="replace")
        assert response.status_code != 500, name
        assert own_marker not in body, f"{name} shows a row of another tenant"
        seen_foreign = seen_foreign or foreign_marker in body
    assert seen_foreign  # the stranger does see their own tenant's use case somewhere


def test_detail_routes_of_this_tenant_are_closed_to_another_tenant(client, world, stranger):  # noqa: F811
    task = world["tasks"][0]
    client.force_login(stranger)
    session = client.session
    session[SESSION_TENANT_KEY] = world["other"].pk
    session.save()
    _token, plain = services.api_token_create(actor=stranger, tenant=world["other"], user=stranger, name="m",
                                              scopes=list(TokenScope))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    key = world["use_case"].key
    pages = [f"/registry/{key}/", f"/registry/{key}/history/", f"/registry/{key}/documentation/",
             f"/registry/{key}/training/", f"/work/{task.item.pk}/", f"/reviews/tasks/{task.pk}/",
             f"/reviews/queues/{task.queue.pk}/", f"/leitstand/{key}/", f"/leitstand/{key}/export/"]
    for path in pages:
        assert client.get(path).status_code in (403, 404), path
        assert client.post(path).status_code in (403, 404, 405), path
    endpoints = [f"/api/v1/use-cases/{key}/", f"/api/v1/work-items/{task.item.pk}/",
                 f"/api/v1/review-tasks/{task.pk}/", f"/api/v1/review-queues/{task.queue.pk}/"]
    for path in endpoints:
        assert api.get(path).status_code in (403, 404), path
    assert api.post(f"/api/v1/review-tasks/{task.pk}/claim/").status_code in (403, 404)
    assert api.post(f"/api/v1/work-items/{task.item.pk}/acknowledge/", {"consumer": "erp"},
                    format="json").status_code in (403, 404)
    assert SYSTEM.kind == "system"
