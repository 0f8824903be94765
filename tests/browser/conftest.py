"""Real headless Chromium (Debian's /usr/bin/chromium, no `playwright install`) against the live server."""
import os

import pytest
from playwright.sync_api import expect

from tests.reviews.world import world  # noqa: F401  (the review pages' shared fixture)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Nothing but loopback is reachable: a page that tried a CDN would show it.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


@pytest.fixture(scope="module")
def chromium():
    """One browser per test module. Playwright's sync API keeps an event loop running in this thread
    while it is open, so Django's ORM would refuse calls from test bodies and fixtures: allow them for
    exactly that time (module scope), so that tests running later keep Django's check."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def _live_server_started(request):
    """Start pytest-django's live server with a MEDIA_URL it can route around. The portal sets
    MEDIA_URL = None on purpose (files only through permission-checked views), but Django's live
    server wraps the app in a media handler that needs a string. The server keeps the value it started
    with; every other test sees the real setting again."""
    from django.test.utils import override_settings

    with override_settings(MEDIA_URL="/_media_not_served/"):
        return request.getfixturevalue("live_server")


@pytest.fixture
def browser_page(chromium, _live_server_started, live_server):
    """A fresh browser profile per test, sized like a laptop screen, with an English-speaking browser:
    the portal must still answer in German."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Assertions wait as long as actions: on a busy 2-core machine a page can take longer than expect()'s
    # default 5 s to render, which is slowness, not a failure of what the test checks.
    expect.set_options(timeout=15_000)
    # The resolver rules leave only 127.0.0.1 reachable, so the live server is addressed by number.
    page.base_url = live_server.url.replace("//localhost:", "//127.0.0.1:")
    yield page
    context.close()


def log_in(page, username: str, password: str = "Geheim-12345"):
    page.goto(f"{page.base_url}/login/")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()
