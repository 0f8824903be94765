"""Mailbox intake against Debian's dovecot on loopback: each PDF attachment becomes an item and the mail
moves to Verarbeitet; a crash between the item and the move creates no duplicate; an unreadable mail goes
to clarification and is kept in the failed folder with a note; a sender not on the allow-list and a mail
over the size limit are refused there."""
import io
import shutil
import tempfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted
from reportlab.pdfgen import canvas

from audit.models import AuditEvent
from automations.choices import ItemSource, ItemStatus
from automations.connectors.services import mailboxes
from automations.connectors.services.credentials import connector_secret_set
from automations.models import WorkItem
from reviews.models import ReviewTask
from tests.automations.connectors.conftest import approve_connector, name_connectors
from tests.automations.connectors.dovecot import Dovecot
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def dovecot():
    # Not below pytest's tmp_path: its folders are private to root, and dovecot's own users read the
    # passwd file and write the mail.
    folder = Path(tempfile.mkdtemp(prefix="leitplanke-dovecot-"))
    folder.chmod(0o755)
    server = Dovecot(folder / "dovecot")
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def mailbox(tenant, team, dovecot, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    use_case = make_rules_use_case(tenant, team, key="eingang")
    entry = approve_connector(tenant, team, "rechnungseingang", {
        "kind": "connector", "connector_type": "imap", "direction": "intake", "name": "rechnung@",
        "endpoint": dovecot.url, "settings": {"per_attachment": True, "allowed_senders": ["@lieferant.example"],
                                              "max_bytes": 300_000}})
    connector_secret_set(actor=team["it_operator"], entry=entry, secret=dovecot.password)
    name_connectors(use_case, team, ["rechnungseingang"])
    entry.refresh_from_db()
    return entry


def pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def mail(subject, *, sender="buchhaltung@lieferant.example", attachments=(), message_id=None, body="Anbei."):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "rechnung@muster.example", subject
    message["Message-ID"] = message_id or f"<{abs(hash(subject))}@lieferant.example>"
    message.set_content(body)
    for name, content, subtype in attachments:
        message.add_attachment(content, maintype="application", subtype=subtype, filename=name)
    return message.as_bytes()


def deliver(dovecot, *messages) -> None:
    with MailBoxUnencrypted("127.0.0.1", dovecot.port).login(dovecot.user, dovecot.password) as box:
        for message in messages:
            box.append(message, "INBOX", dt=None, flag_set=[])


def folder(dovecot, name) -> list:
    with MailBoxUnencrypted("127.0.0.1", dovecot.port).login(dovecot.user, dovecot.password) as box:
        if not box.folder.exists(name):
            return []
        box.folder.set(name)
        return list(box.fetch(mark_seen=False))


def test_each_pdf_attachment_becomes_an_item_and_the_mail_moves_to_verarbeitet(mailbox, dovecot, tenant):
    deliver(dovecot, mail("Rechnungen November", attachments=[
        ("RE-1.pdf", pdf("Rechnung Rechnungsnummer 1"), "pdf"),
        ("RE-2.pdf", pdf("Rechnung Rechnungsnummer 2"), "pdf")]))
    result = mailboxes.mailboxes_poll()
    assert (result.items, result.processed, result.failed) == (2, 1, 0)
    items = list(WorkItem.objects.filter(tenant=tenant).order_by("created_at"))
    assert [i.files.get().name for i in items] == ["RE-1.pdf", "RE-2.pdf"]
    assert {i.source for i in items} == {ItemSource.EMAIL} and {i.status for i in items} == {ItemStatus.RECEIVED}
    assert folder(dovecot, "INBOX") == []
    assert [m.subject for m in folder(dovecot, "Verarbeitet")] == ["Rechnungen November"]
    assert mailboxes.mailboxes_poll().items == 0 and WorkItem.objects.filter(tenant=tenant).count() == 2


def test_a_crash_between_the_item_and_the_move_creates_no_duplicate_and_loses_no_mail(mailbox, dovecot, tenant):
    deliver(dovecot, mail("Rechnung 7", attachments=[("RE-7.pdf", pdf("Rechnung Rechnungsnummer 7"), "pdf")]))
    with mailboxes.mailbox_open(mailbox) as box:  # the items are created, then the process dies
        (message,) = list(box.fetch(mark_seen=False))
        mailboxes._take(mailbox, "eingang", message)
    assert WorkItem.objects.filter(tenant=tenant).count() == 1 and len(folder(dovecot, "INBOX")) == 1
    result = mailboxes.mailboxes_poll()
    assert (result.processed, WorkItem.objects.filter(tenant=tenant).count()) == (1, 1)
    assert folder(dovecot, "INBOX") == [] and len(folder(dovecot, "Verarbeitet")) == 1


def test_an_unreadable_mail_goes_to_clarification_and_is_kept_with_a_note(mailbox, dovecot, tenant):
    deliver(dovecot, mail("Rechnung kaputt", attachments=[("RE-9.pdf", b"\x00\x01 kein PDF", "pdf")]),
            mail("Ohne Anhang", message_id="<ohne@lieferant.example>"))
    result = mailboxes.mailboxes_poll()
    assert result.clarification == 2
    items = list(WorkItem.objects.filter(tenant=tenant))
    assert len(items) == 2 and {i.status for i in items} == {ItemStatus.CLARIFICATION}
    assert all(i.reasons and ReviewTask.objects.filter(item=i).exists() for i in items)
    assert {i.payload["subject"] for i in items} == {"Rechnung kaputt", "Ohne Anhang"}
    kept = folder(dovecot, "Fehlgeschlagen")
    subjects = sorted(m.subject for m in kept)
    assert "Rechnung kaputt" in subjects and "Ohne Anhang" in subjects
    notes = [m for m in kept if m.subject.startswith("Not processed")]
    assert len(notes) == 2 and any("no attachment" in m.text for m in notes)
    assert mailboxes.mailboxes_poll().items == 0 and WorkItem.objects.filter(tenant=tenant).count() == 2


def test_a_sender_off_the_allow_list_and_an_oversized_mail_are_refused(mailbox, dovecot, tenant):
    deliver(dovecot, mail("Spam", sender="fremd@unbekannt.example",
                          attachments=[("x.pdf", pdf("Rechnung 1"), "pdf")]),
            mail("Riesig", attachments=[("gross.pdf", pdf("Rechnung") + b"%" * 400_000, "pdf")]))
    result = mailboxes.mailboxes_poll()
    assert (result.items, result.failed) == (0, 2)
    assert not WorkItem.objects.filter(tenant=tenant).exists()
    kept = folder(dovecot, "Fehlgeschlagen")
    assert {"Spam", "Riesig"} <= {m.subject for m in kept}
    reasons = [e.details["reason"] for e in AuditEvent.objects.filter(event_type="mail.refused", tenant=tenant)]
    assert sorted(reasons) == ["sender_not_allowed", "too_large"]
    notes = " ".join(m.text for m in kept if m.subject.startswith("Not processed"))
    assert "allow-list" in notes and "larger than" in notes
