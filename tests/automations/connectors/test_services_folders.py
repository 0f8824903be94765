"""Watched folders: a complete file becomes a work item with source `folder` and moves to
processed/<date>/; `.part` and dot-files are ignored and a file still being written waits; a file that
cannot become an item moves to failed/ with its reason; a crash between the item and the move creates no
duplicate."""
import io
import os
import shutil
import time

import pytest
from django.utils import timezone
from reportlab.pdfgen import canvas

from automations.choices import ItemSource
from automations.connectors.services import folders
from automations.models import WorkItem
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(settings, tmp_path, tenant, team):
    settings.FOLDER_INBOX_DIR = str(tmp_path / "inbox")
    settings.FOLDER_STABLE_SECONDS = 2
    settings.MEDIA_ROOT = tmp_path / "media"
    use_case = make_rules_use_case(tenant, team)
    (folder,) = folders.inbox_folders_ensure(tenant=tenant)
    assert folder == tmp_path / "inbox" / tenant.slug / use_case.key and folder.is_dir()
    return folder


def pdf_bytes(text: str) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def aged(path, seconds=10):
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def test_a_complete_file_becomes_an_item_and_moves_to_processed(inbox, tenant):
    path = inbox / "rechnung-4711.pdf"
    path.write_bytes(pdf_bytes("Rechnung Rechnungsnummer 4711"))
    aged(path)
    result = folders.folders_poll()
    assert (result.taken, result.failed, result.waiting) == (1, 0, 0)
    item = WorkItem.objects.get(tenant=tenant)
    assert item.source == ItemSource.FOLDER and item.external_id == "rechnung-4711.pdf"
    assert item.files.get().name == "rechnung-4711.pdf"
    assert not path.exists()
    assert (inbox / "processed" / timezone.localdate().isoformat() / "rechnung-4711.pdf").exists()
    assert folders.folders_poll().taken == 0  # processed/ is not looked into


def test_part_files_dot_files_and_files_still_being_written_are_not_taken(inbox, tenant):
    part = inbox / "scan.pdf.part"
    part.write_bytes(pdf_bytes("Rechnung halb")[:200])
    aged(part)
    hidden = inbox / ".scan.pdf"
    hidden.write_bytes(pdf_bytes("Rechnung versteckt"))
    aged(hidden)
    growing = inbox / "growing.pdf"
    content = pdf_bytes("Rechnung Rechnungsnummer 1")
    growing.write_bytes(content[: len(content) // 2])  # the scanner is still writing: its time is fresh
    result = folders.folders_poll()
    assert (result.taken, result.waiting) == (0, 1)
    assert not WorkItem.objects.filter(tenant=tenant).exists()
    assert part.exists() and hidden.exists() and growing.exists()

    with growing.open("ab") as fh:  # the rest arrives; once its size stood still, it is taken
        fh.write(content[len(content) // 2:])
    aged(growing)
    assert folders.folders_poll().taken == 1
    stored = WorkItem.objects.get(tenant=tenant).files.get()
    with stored.file.open("rb") as fh:
        assert fh.read() == content
    complete = pdf_bytes("Rechnung Rechnungsnummer 2")
    part.write_bytes(complete)
    part.rename(inbox / "scan.pdf")  # renamed when complete (the atomic way): taken on the next poll
    aged(inbox / "scan.pdf")
    assert folders.folders_poll().taken == 1
    assert WorkItem.objects.filter(tenant=tenant).count() == 2 and hidden.exists()


def test_a_file_that_cannot_become_an_item_moves_to_failed_with_its_reason(inbox, tenant):
    path = inbox / "archiv.zip"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    aged(path)
    result = folders.folders_poll()
    assert (result.taken, result.failed) == (0, 1)
    assert not path.exists() and (inbox / "failed" / "archiv.zip").exists()
    reason = (inbox / "failed" / "archiv.zip.reason.txt").read_text()
    assert reason.strip() and "zip" in reason.lower()
    assert not WorkItem.objects.filter(tenant=tenant).exists()


def test_a_crash_between_the_item_and_the_move_creates_no_duplicate(inbox, tenant):
    path = inbox / "rechnung-9.pdf"
    path.write_bytes(pdf_bytes("Rechnung Rechnungsnummer 9"))
    aged(path)
    assert folders.folders_poll().taken == 1
    moved = inbox / "processed" / timezone.localdate().isoformat() / "rechnung-9.pdf"
    shutil.copy2(moved, path)  # as if the move never happened: the same file, the same time
    moved.unlink()
    assert folders.folders_poll().taken == 1
    assert WorkItem.objects.filter(tenant=tenant).count() == 1
    assert moved.exists() and not path.exists()
