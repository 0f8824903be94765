"""Every page carries the Content-Security-Policy and renders in Chromium without a single console error:
no inline script or style, nothing from a foreign origin."""
import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from portal.choices import Role
from tests.browser.conftest import log_in
from tests.reviews.world import attach_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Not pages of the portal: the API (JSON), the admin (Django's own), the language switch and sign-out
# (POST only), monitoring (token) and downloads.
SKIP_PREFIXES = ("api/v1/", "admin/", "i18n/", "logout/", "metrics", "health/", "api/schema/")


def parameterless_pages() -> list[str]:
    found = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and "<" not in route and not route.startswith(SKIP_PREFIXES):
                if not route.endswith((".pdf", ".png", "export/")):
                    found.append("/" + route.lstrip("^").rstrip("$"))

    walk(get_resolver().url_patterns)
    return sorted(set(found))


def visit_all(page, paths) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for path in paths:
        if page.request.get(f"{page.base_url}{path}", max_redirects=0).status == 405:
            continue  # POST only (a form's target): nothing to render
        messages = []
        page.on("console", handler := (lambda msg, sink=messages: sink.append(msg.text)
                                        if msg.type == "error" else None))
        page.on("pageerror", errors := (lambda exc, sink=messages: sink.append(str(exc))))
        response = page.goto(f"{page.base_url}{path}")
        page.wait_for_load_state("load")
        page.remove_listener("console", handler)
        page.remove_listener("pageerror", errors)
        policy = response.headers.get("content-security-policy", "")
        if "text/html" in response.headers.get("content-type", "") and "script-src 'self'" not in policy:
            messages.append(f"no Content-Security-Policy ({policy!r})")
        # A page a role may not open answers 403 (Chromium logs the status itself): only the policy counts.
        if response.status >= 400:
            messages = [m for m in messages if "Failed to load resource" not in m]
        if messages:
            problems[path] = messages
    return problems


def test_every_page_renders_without_console_errors_under_the_policy(browser_page, world):
    page = browser_page
    team, use_case, task = world["team"], world["use_case"], world["tasks"][0]
    attach_file(task.item)
    pages = parameterless_pages()
    assert "/" in pages and "/login/" in pages and "/registry/" in pages and "/audit/" in pages
    details = [f"/registry/{use_case.key}/", f"/registry/{use_case.key}/documentation/",
               f"/registry/{use_case.key}/history/", f"/registry/{use_case.key}/training/",
               f"/work/{use_case.key}/playground/", f"/work/{task.item.pk}/",
               f"/reviews/queues/{task.queue.pk}/", f"/reviews/tasks/{task.pk}/"]

    assert visit_all(page, ["/login/"]) == {}
    log_in(page, team[Role.AUTOMATION_LEAD].username)
    assert visit_all(page, pages + details) == {}
    page.context.clear_cookies()

    log_in(page, team[Role.DATA_PROTECTION_OFFICER].username)
    assert visit_all(page, [p for p in pages if p.startswith("/audit/")]) == {}
    page.context.clear_cookies()

    log_in(page, "clerk")
    assert visit_all(page, ["/", "/reviews/", f"/reviews/tasks/{task.pk}/", f"/work/{task.item.pk}/"]) == {}


def test_the_api_documentation_loads_nothing_from_elsewhere(browser_page, member):
    page = browser_page
    member(Role.AUTOMATION_LEAD, username="lead")
    log_in(page, "lead")
    assert visit_all(page, ["/api/docs/", "/api/redoc/"]) == {}
