"""Stored files with script in real headless Chromium: an HTML page and an SVG image that try to read
/api/v1/me/ (as the person looking) and mark the window, stored the way a file from before intake refused
them would exist (written straight to the item, with a declared type that lies), are opened by the
automation lead on every page that shows or links them. No script runs: no request to the API, no
marker, no readable CSRF cookie. A PDF still shows inline in Chromium's PDF viewer."""
import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import log_in
from tests.reviews.world import attach_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each one calls the API as the person who opened it and leaves a marker wherever it can reach.
SCRIPT = ("fetch('/api/v1/me/?stolen={tag}');"
          "try{{window.top.document.body.dataset.pwned='{tag}'}}catch(e){{}};"
          "document.title='pwned-{tag}';")
HTML = ("<!DOCTYPE html><html><head><title>Rechnung</title></head><body><h1>Rechnung</h1>"
        f"<script>{SCRIPT.format(tag='html')}</script><img src=x onerror=\"{SCRIPT.format(tag='html-img')}\">"
        "</body></html>").encode()
SVG = ('<?xml version="1.0" encoding="UTF-8"?>\n'
       f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" onload="{SCRIPT.format(tag="svg-onload")}">'
       f'<script>{SCRIPT.format(tag="svg")}</script><text x="10" y="50">Logo</text></svg>').encode()


@pytest.fixture
def hostile(world):
    task = world["tasks"][0]
    files = {
        "html": attach_file(task.item, name="rechnung.pdf", data=HTML, content_type="application/pdf"),
        "html-as-html": attach_file(task.item, name="evil.html", data=HTML, content_type="text/html"),
        "svg": attach_file(task.item, name="logo.svg", data=SVG, content_type="image/svg+xml"),
        "svg-as-png": attach_file(task.item, name="scan.png", data=SVG, content_type="image/png"),
        "pdf": attach_file(task.item, name="beleg.pdf"),
    }
    return {"task": task, "item": task.item, "files": files}


class Watch:
    """Every request the browser context sends to the API, and every page it opens."""

    def __init__(self, page):
        self.api_calls = []
        self.context = page.context
        self.context.on("request", lambda request: self.api_calls.append(request.url)
                        if "/api/v1/me/" in request.url else None)

    def assert_no_script_ran(self, *pages):
        for page in pages:
            page.wait_for_timeout(300)  # a script would have run by now; give its fetch time to leave
        assert self.api_calls == []
        for page in self.context.pages:
            if page.is_closed() or page.url.startswith("chrome"):
                continue
            assert "pwned" not in (page.title() or "")
            for frame in page.frames:
                try:
                    marked = frame.evaluate("document.body && document.body.dataset.pwned")
                except PlaywrightError:  # a download or a frame without a document
                    continue
                assert not marked, frame.url


def _open_file(page, url: str) -> str:
    """Open a file URL as a person would type it; returns 'download' or what the page shows."""
    try:
        with page.expect_download(timeout=10_000) as download:
            try:
                page.goto(url)
            except PlaywrightError as error:  # "Download is starting": the browser saves, renders nothing
                assert "Download is starting" in str(error) or "net::ERR_ABORTED" in str(error), error
        download.value.cancel()
        return "download"
    except PlaywrightError:
        return page.evaluate("document.contentType")


def _content_type(page) -> str:
    try:
        return page.evaluate("document.contentType")
    except PlaywrightError:
        return ""


def test_html_and_svg_with_script_never_run_on_any_page_that_shows_or_links_them(browser_page, world, hostile):
    page = browser_page
    watch = Watch(page)
    log_in(page, "automation_lead")
    item, task = hostile["item"], hostile["task"]

    # The work item page, then the file URLs typed in directly (without ?download=1): downloads.
    page.goto(f"{page.base_url}/work/{item.pk}/")
    watch.assert_no_script_ran(page)
    for key in ("html-as-html", "svg", "html", "svg-as-png"):
        stored = hostile["files"][key]
        for url in (f"{page.base_url}/work/{item.pk}/files/{stored.pk}/",
                    f"{page.base_url}/reviews/tasks/{task.pk}/files/{stored.pk}/"):
            shown = _open_file(page, url)
            watch.assert_no_script_ran(page)
            assert shown == "download", url

    # On the work item page the hostile files are links only, never embedded.
    page.goto(f"{page.base_url}/work/{item.pk}/")
    for key in ("html", "html-as-html", "svg", "svg-as-png"):
        stored = hostile["files"][key]
        assert page.locator(f'a[href="/work/{item.pk}/files/{stored.pk}/?download=1"]').count() == 1
        assert page.locator(f'[src^="/work/{item.pk}/files/{stored.pk}/"]').count() == 0
    # Every file link, clicked: a download each time, nothing rendered.
    for key in ("html", "html-as-html", "svg", "svg-as-png"):
        stored = hostile["files"][key]
        with page.expect_download() as download:
            page.locator(f'a[href="/work/{item.pk}/files/{stored.pk}/?download=1"]').click()
        download.value.cancel()
    watch.assert_no_script_ran(page)

    # The review task page, and its "open the original" links (a new tab each).
    page.goto(f"{page.base_url}/reviews/tasks/{task.pk}/")
    for key in ("html", "html-as-html", "svg", "svg-as-png"):
        stored = hostile["files"][key]
        link = page.locator(f'[data-original="{stored.pk}"]')
        assert link.count() == 1
        assert page.locator(f'[data-file="{stored.pk}"] img, [data-file="{stored.pk}"] iframe').count() == 0
        with page.expect_popup() as popup:
            link.click()
        page.wait_for_timeout(500)  # the new tab starts a download and closes itself, or would show the file
        opened = popup.value
        if not opened.is_closed():
            assert opened.url in ("about:blank", "") or _content_type(opened) not in ("text/html", "image/svg+xml")
        watch.assert_no_script_ran(page)
        if not opened.is_closed():
            opened.close()
    watch.assert_no_script_ran(page)
    assert "csrftoken" not in page.evaluate("document.cookie")  # a script could not read the token either


def test_a_pdf_still_shows_inline_in_chromiums_viewer(browser_page, world, hostile):
    page = browser_page
    log_in(page, "automation_lead")
    item, pdf = hostile["item"], hostile["files"]["pdf"]
    page.goto(f"{page.base_url}/work/{item.pk}/")
    frame = page.locator(f'iframe[src^="/work/{item.pk}/files/{pdf.pk}/"]')
    frame.wait_for()
    page.wait_for_function("() => true")
    # Chromium's PDF viewer runs as its own extension frame inside the document's frame.
    page.wait_for_timeout(1500)
    assert any(f.url.startswith("chrome-extension://") for f in page.frames), [f.url for f in page.frames]
    frame.screenshot(path="/tmp/work-item-pdf.png")
    response = page.request.get(f"{page.base_url}/work/{item.pk}/files/{pdf.pk}/")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
