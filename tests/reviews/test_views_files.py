"""Every view that hands a stored file to a browser, with files an attacker could have stored (an upload
from before intake refused them, or a declared type that lies): HTML, SVG and XML with script are
downloads, never rendered in the portal's origin; PDFs and images inline; always nosniff, no caching and
a Content-Security-Policy without script."""
import pytest
from django.urls import reverse

from reviews.views.documents import document_view
from tests.access import login
from tests.reviews.world import attach_file, small_pdf

pytestmark = pytest.mark.django_db

HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me/').then(r=>r.text()).then(t=>parent.leak=t)</script>"
SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>document.title="pwned"</script></svg>')
XHTML = (b'<?xml version="1.0"?><root xmlns:h="http://www.w3.org/1999/xhtml">'
         b'<h:script>document.title="pwned"</h:script></root>')
# The name and declared type an uploader chose, which must not matter.
HOSTILE = [
    ("evil.html", HTML, "text/html"),
    ("rechnung.pdf", HTML, "application/pdf"),
    ("logo.svg", SVG, "image/svg+xml"),
    ("scan.png", SVG, "image/png"),
    ("rechnung.xml", XHTML, "application/xml"),
]


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _is_safe_download(response, data: bytes) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy
    assert _body(response) == data


@pytest.fixture
def lead(client, world):
    return login(client, world["team"]["automation_lead"], world["tenant"])


@pytest.mark.parametrize("name,data,declared", HOSTILE)
def test_work_item_file_with_script_is_a_sandboxed_download(lead, world, name, data, declared):
    item = world["tasks"][0].item
    stored = attach_file(item, name=name, data=data, content_type=declared)
    _is_safe_download(lead.get(reverse("work:item-file", args=[item.pk, stored.pk])), data)


@pytest.mark.parametrize("name,data,declared", HOSTILE)
def test_task_file_with_script_is_a_sandboxed_download(lead, world, name, data, declared):
    task = world["tasks"][0]
    stored = attach_file(task.item, name=name, data=data, content_type=declared)
    _is_safe_download(lead.get(reverse("reviews:task-file", args=[task.pk, stored.pk])), data)


@pytest.mark.parametrize("name,data,declared", HOSTILE)
def test_pages_that_show_files_never_embed_one_with_script(lead, world, name, data, declared):
    task = world["tasks"][0]
    stored = attach_file(task.item, name=name, data=data, content_type=declared)
    item_page = lead.get(reverse("work:item-detail", args=[task.item.pk])).content.decode()
    file_url = reverse("work:item-file", args=[task.item.pk, stored.pk])
    assert f'href="{file_url}?download=1"' in item_page  # offered as a download only
    assert f'src="{file_url}' not in item_page
    assert document_view(stored).kind == "other"  # the task page shows no preview, only the link
    task_page = lead.get(reverse("reviews:task-detail", args=[task.pk])).content.decode()
    assert reverse("reviews:task-file", args=[task.pk, stored.pk]) in task_page
    assert "pwned" not in task_page and "api/v1/me" not in task_page


def test_pdf_is_inline_in_both_views_and_on_the_item_page(lead, world):
    task = world["tasks"][0]
    stored = attach_file(task.item, name="beleg", content_type="application/octet-stream")
    for url in (reverse("work:item-file", args=[task.item.pk, stored.pk]),
                reverse("reviews:task-file", args=[task.pk, stored.pk])):
        response = lead.get(url)
        assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("inline;")
        assert response["X-Content-Type-Options"] == "nosniff" and response["Cache-Control"] == "private, no-store"
        assert response["X-Frame-Options"] == "SAMEORIGIN"
        policy = response["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy and "script-src" not in policy
        assert _body(response) == small_pdf()
    page = lead.get(reverse("work:item-detail", args=[task.item.pk])).content.decode()
    assert f'<iframe title="beleg" src="{reverse("work:item-file", args=[task.item.pk, stored.pk])}?v=' in page


def test_pdf_as_a_download_when_asked_for(lead, world):
    item = world["tasks"][0].item
    stored = attach_file(item)
    response = lead.get(reverse("work:item-file", args=[item.pk, stored.pk]) + "?download=1")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")


def test_rendered_pdf_pages_carry_the_same_headers(lead, world):
    task = world["tasks"][0]
    stored = attach_file(task.item)
    response = lead.get(reverse("reviews:task-file-page", args=[task.pk, stored.pk, 1]))
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store" and "sandbox" in response["Content-Security-Policy"]


def test_a_file_gone_from_storage_is_not_found(lead, world):
    task = world["tasks"][0]
    stored = attach_file(task.item)
    stored.file.storage.delete(stored.file.name)
    assert lead.get(reverse("work:item-file", args=[task.item.pk, stored.pk])).status_code == 404
    assert lead.get(reverse("reviews:task-file", args=[task.pk, stored.pk])).status_code == 404
