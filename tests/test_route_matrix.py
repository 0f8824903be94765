"""The route matrix: every URL pattern of the portal and its API, found through Django's resolver (not a
hand-kept list), is classified here; a new route without an entry fails. Anonymous requests, with every
method, never reach a view that needs a sign-in; a member holding a role that must not reach a page or
endpoint is refused (403/404) with every method; a user of another tenant finds no row of this tenant on
any list page or list endpoint; nothing answers 500."""
import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, UUIDConverter

from audit.actors import SYSTEM
from portal.choices import Role, TokenScope
from tests import access
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
    "reviews:briefing", "reviews:briefing-confirm", "reviews:briefing-notice-read", "reviews:grants",
    "reviews:oversight",
    "reviews:queue-bulk-approve", "reviews:queue-detail", "reviews:queue-list", "reviews:queue-next",
    "reviews:task-claim", "reviews:task-decide", "reviews:task-detail", "reviews:task-file", "reviews:task-file-page",
    "reviews:task-document-page", "reviews:task-release", "reviews:trainings", "work:dry-run",
    "work:escalation-action", "work:escalations",
    "work:item-detail", "work:item-file", "work:item-list", "work:master-data", "work:upload",
}
# The API: a token or a session (401/403 without).
API = {
    "api:access-event-detail", "api:access-event-list", "api:api-token-detail", "api:api-token-list",
    "api:api-token-revoke", "api:audit-event-detail", "api:audit-event-list", "api:audit-export",
    "api:audit-verification", "api:catalogue-entry-detail", "api:catalogue-entry-list", "api:connector-list",
    "api:delivery-list", "api:delivery-redeliver", "api:change-request-detail", "api:change-request-list",
    "api:grant-list", "api:grant-revoke",
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

# For every page and endpoint behind a sign-in: a role that must not reach it (with every method it gets
# 403 or 404, or 405 where the route has no such method), written `(role, "get")` where that role may read
# it but do nothing else, or EVERY_MEMBER for what each member of a tenant may use (their own tokens, the
# home page, the registry's use cases). A route without an entry fails.
EVERY_MEMBER = None
CLERK, ISB, WORKS_COUNCIL, AUDITOR = Role.CLERK, Role.SECURITY_OFFICER, Role.WORKS_COUNCIL, Role.AUDITOR
WRONG_ROLE = {
    # the DSB area: the audit and access logs, requests, holds, records of processing
    **dict.fromkeys([
        "audit:access-request-create", "audit:erasure", "audit:event-detail", "audit:event-export",
        "audit:event-list", "audit:home", "audit:legal-hold-lift", "audit:legal-holds", "audit:processing-records",
        "audit:processing-records-pdf", "audit:pseudonym-reveal", "audit:request-action", "audit:request-detail",
        "audit:request-export", "audit:request-list", "audit:restricted-items", "audit:verification-start",
        "audit:works-council", "api:access-event-detail", "api:access-event-list", "api:audit-event-detail",
        "api:audit-event-list", "api:audit-export", "api:audit-verification", "api:legal-hold-lift",
        "api:legal-hold-list", "api:processing-records", "api:subject-request-action", "api:subject-request-detail",
        "api:subject-request-export", "api:subject-request-list", "api:works-council"], CLERK),
    # the registry beyond the use cases themselves: versions, releases, change control, catalogue, training
    **dict.fromkeys([
        "automations:catalogue", "automations:catalogue-change", "automations:change-request-decide",
        "automations:change-request-detail", "automations:change-request-inbox", "automations:change-request-list",
        "automations:change-request-withdraw", "automations:classifier-version-detail",
        "automations:classifier-version-list", "automations:classifier-version-propose", "automations:connectors",
        "automations:delivery-redeliver", "automations:label-move-create", "automations:playground",
        "automations:playground-use-case", "automations:procedure-document", "automations:procedure-document-pdf",
        "automations:registry-export", "automations:registry-import", "automations:release-create",
        "automations:release-detail", "automations:status-change-create", "automations:tenant-policy",
        "automations:tenant-policy-change", "automations:tenant-policy-update", "automations:training",
        "automations:training-progress", "automations:training-start", "automations:training-upload",
        "automations:use-case-create", "automations:use-case-suspend", "automations:use-case-update",
        "automations:version-create", "automations:version-detail", "automations:version-diff",
        "automations:version-list", "automations:version-submit", "work:dry-run",
        "api:catalogue-entry-detail", "api:catalogue-entry-list", "api:change-request-detail",
        "api:change-request-list", "api:change-request-withdraw", "api:classifier-version-detail",
        "api:classifier-version-list", "api:classifier-version-propose-thresholds", "api:connector-list",
        "api:delivery-redeliver", "api:engine-config-version-detail", "api:engine-config-version-list",
        "api:engine-config-version-submit", "api:guardrail-set-version-detail", "api:guardrail-set-version-list",
        "api:guardrail-set-version-submit", "api:prompt-template-version-detail", "api:prompt-template-version-list",
        "api:prompt-template-version-submit", "api:registry-export", "api:registry-import", "api:release-detail",
        "api:release-list", "api:threshold-set-version-detail", "api:threshold-set-version-list",
        "api:threshold-set-version-submit", "api:use-case-examples", "api:use-case-suspend", "api:use-case-training",
        "automations:use-case-review-list", "automations:use-case-review-detail", "automations:quality-breaker-reset",
        "api:threshold-backtest-list", "api:threshold-backtest-detail", "api:use-case-threshold-backtest",
        "api:quality-breaker-list", "api:quality-breaker-detail", "api:use-case-review-list",
        "api:use-case-review-detail", "api:use-case-review-complete", "api:subject-request-answer-pdf",
        ], CLERK),
    # evaluations and their test cases: the core team's, read by the approvers
    **dict.fromkeys([
        "api:evaluation-detail", "api:evaluation-list", "api:release-evaluation-start", "api:test-case-detail",
        "api:test-case-list", "api:use-case-test-case-import", "automations:evaluation-compare",
        "automations:evaluation-detail", "automations:evaluation-progress", "automations:evaluation-start",
        "automations:test-case-create", "automations:test-case-detail", "automations:test-case-from-item",
        "automations:test-case-import", "automations:test-case-list", "automations:test-case-retire"], CLERK),
    # the Leitstand: daily figures of the core team, IT, the ISB and the controllers (no clerk)
    **dict.fromkeys(["leitstand:export", "leitstand:home", "leitstand:use-case", "leitstand:use-case-export",
                     "api:leitstand"], CLERK),
    # sign-in security: unlocking and resetting others' second factor (the ISB's)
    **dict.fromkeys(["portal:login-security", "portal:login-unlock", "portal:second-factor-reset"], CLERK),
    # members, their grants and oversight figures: the core team's and the controllers'
    **dict.fromkeys([
        "portal:member-create", "portal:member-deactivate", "portal:member-edit", "portal:members",
        "reviews:grants", "reviews:oversight", "reviews:trainings", "api:grant-list", "api:grant-revoke",
        "api:membership-detail", "api:membership-list"], CLERK),
    # the registry's use cases: every member reads them; a clerk changes none
    "api:use-case-detail": (CLERK, "get"), "api:use-case-list": (CLERK, "get"),
    # work: items, queues, tasks, escalations, master data, uploads (the ISB handles none of them)
    **dict.fromkeys([
        "reviews:queue-bulk-approve", "reviews:queue-detail", "reviews:queue-list", "reviews:queue-next",
        "reviews:task-claim", "reviews:task-decide", "reviews:task-detail", "reviews:task-file",
        "reviews:task-file-page", "reviews:task-document-page", "reviews:task-release", "work:escalation-action",
        "work:escalations",
        "work:item-detail", "work:item-file", "work:item-list", "work:master-data", "work:upload", "demo:erp",
        "demo:invoice-file", "demo:invoices", "demo:invoices-send", "api:delivery-list", "api:review-queue-detail",
        "api:review-queue-list", "api:review-queue-next", "api:review-task-claim", "api:review-task-detail",
        "api:review-task-list", "api:review-task-release", "api:work-item-acknowledge", "api:work-item-detail",
        "api:work-item-list", "api:work-item-deliveries"], ISB),
    # confirming a briefing is for those who work the use case's queues
    "reviews:briefing-confirm": AUDITOR,
    **dict.fromkeys([
        "portal:api-token-create", "portal:api-token-revoke", "portal:api-tokens", "portal:home", "portal:logout",
        "portal:tenant-switch", "portal:two-factor", "portal:two-factor-setup", "portal:two-factor-verify",
        "portal:two-factor-recovery-codes", "reviews:briefing", "reviews:briefing-notice-read",
        "automations:use-case-detail",
        "automations:use-case-history",
        "automations:use-case-list", "api:api-token-detail", "api:api-token-list", "api:api-token-revoke",
        "api:me"], EVERY_MEMBER),
}


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


def sample_path(route: str, pattern: URLPattern, values: dict | None = None) -> str:
    """A concrete path for a route: each parameter filled with a value its converter accepts (or taken from
    `values`, by parameter name)."""
    values = values or {}
    if route.startswith("^"):  # the API's catch-all for unknown paths
        return "/" + route.strip("^$") + "nothing-here/"
    # DRF's router writes regular expressions: named groups get a value, anchors go.
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)",
                  lambda m: str(values[m.group(1)]) if m.group(1) in values
                  else "987654" if m.group(1) in ("pk", "id", "sequence", "number") else "x", route)
    path = path.replace("^", "").replace("$", "")
    for name, converter in pattern.pattern.converters.items():
        if name in values:
            value = str(values[name])
        elif isinstance(converter, IntConverter):
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
    assert (SIGN_IN | API) - set(WRONG_ROLE) == set(), "routes without a wrong role: add them to WRONG_ROLE"
    assert set(WRONG_ROLE) - (SIGN_IN | API) == set(), "wrong roles for routes that are not behind a sign-in"
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
    access.login(client, stranger, world["other"])
    api = access.bearer(stranger, world["other"], name="m", scopes=[TokenScope.READ])

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
    access.login(client, stranger, world["other"])
    api = access.bearer(stranger, world["other"], name="m", scopes=list(TokenScope))
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


def _real_values(name: str, world) -> dict:  # noqa: F811
    """Path parameters naming real rows of the world's tenant, so that a refusal is not just a missing row."""
    task = world["tasks"][0]
    if name.startswith(("reviews:task", "api:review-task")):
        return {"pk": task.pk}
    if name.startswith(("reviews:queue", "api:review-queue")):
        return {"pk": task.queue.pk}
    if name.startswith(("work:item", "api:work-item")):
        return {"pk": task.item.pk}
    return {"key": world["use_case"].key, "use_case_key": world["use_case"].key}


def test_a_member_in_a_role_that_must_not_reach_a_route_is_refused_with_every_method(world, make_user):  # noqa: F811
    from django.test import Client

    tenant = world["tenant"]
    clients = {}
    for role in {entry[0] if isinstance(entry, tuple) else entry for entry in WRONG_ROLE.values()} - {None}:
        user = make_user(f"nur_{role}", tenant=tenant, roles=[role])
        page = access.login(Client(), user, tenant)
        api = access.bearer(user, tenant, name="m", scopes=list(TokenScope))
        clients[role] = (page, api)
    refused_403 = 0
    for name, route, pattern in routes():
        entry = WRONG_ROLE.get(name, EVERY_MEMBER) if name in SIGN_IN | API else EVERY_MEMBER
        if entry is EVERY_MEMBER:
            continue
        role, allowed = (entry[0], set(entry[1:])) if isinstance(entry, tuple) else (entry, set())
        page, api = clients[role]
        path = sample_path(route, pattern, _real_values(name, world))
        for method in METHODS:
            if method in allowed:
                continue
            response = getattr(api if name in API else page, method)(path)
            where = f"{method.upper()} {path} ({name}) as {role}"
            assert response.status_code in (403, 404, 405), f"{where}: {response.status_code}"
            refused_403 += response.status_code == 403
    assert refused_403 > 300  # refused by permission, not merely not found
