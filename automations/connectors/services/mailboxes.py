"""Mailbox intake (IMAP, through imap-tools): a mailbox per use case, polled by beat. Each message becomes
one work item (subject, sender and text as input fields, attachments as files), or — `per_attachment`, as
for invoices — one item per attachment. A processed message moves to `processed_folder` (Verarbeitet); one
that is refused (too large, a sender not on the allow-list) moves to `failed_folder` with a note giving the
reason beside it; an unreadable one (no attachment to read, an attachment of a type the use case cannot
read) is kept there too and becomes an item in the clarification queue, so that a person looks at it.

Idempotent by Message-ID: the item's idempotency key is derived from the connector, the Message-ID and the
attachment's position, so a crash between creating the item and moving the message creates no duplicate
on the next poll and loses no mail.

The connector (a catalogue entry, type `imap`, direction intake): target `imaps://user@host:993/INBOX`
(TLS), `imap://user@host:143/INBOX` with STARTTLS, or plain `imap://` on loopback outside production only;
the password is its credential (encrypted at rest). Settings: processed_folder ("Verarbeitet"),
failed_folder ("Fehlgeschlagen"), max_bytes (25 MB), allowed_senders (addresses or "@domain"; empty: all),
per_attachment (false), starttls (true for imap:// off loopback), timeout (30)."""
import email.utils
import hashlib
import ipaddress
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

from audit.actors import SYSTEM
from audit.services.events import audit_event_record
from automations.choices import ConnectorType, ItemSource
from automations.connectors.selectors import intake_connectors
from automations.connectors.services.credentials import connector_secret
from automations.execution.services import intake

logger = logging.getLogger(__name__)

BODY_LIMIT = 100_000


class MailboxConfigError(Exception):
    pass


@dataclass
class MailboxResult:
    items: int = 0
    processed: int = 0
    failed: int = 0
    clarification: int = 0


def _setting(entry, name: str, default):
    return (entry.settings or {}).get(name, default)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def mailbox_open(entry):
    """A logged-in imap-tools mailbox of the connector, its folder selected."""
    target = urlsplit(entry.endpoint)
    if target.scheme not in ("imap", "imaps") or not target.hostname or not target.username:
        raise MailboxConfigError(_("The mailbox target is imaps://user@host:port/FOLDER or imap://…"))
    password = connector_secret(entry=entry)
    if not password:
        raise MailboxConfigError(_("The mailbox connector has no password."))
    folder = unquote(target.path.lstrip("/")) or "INBOX"
    timeout = float(_setting(entry, "timeout", 30))
    if target.scheme == "imaps":
        box = MailBox(target.hostname, target.port or 993, timeout=timeout)
    elif _setting(entry, "starttls", not _loopback(target.hostname)):
        box = MailBoxStartTls(target.hostname, target.port or 143, timeout=timeout)
    else:
        if settings.PRODUCTION or not _loopback(target.hostname):
            raise MailboxConfigError(_("Plain IMAP is allowed on loopback outside production only."))
        box = MailBoxUnencrypted(target.hostname, target.port or 143, timeout=timeout)
    return box.login(unquote(target.username), password, initial_folder=folder)


def _ensure_folder(box, name: str) -> None:
    if not box.folder.exists(name):
        box.folder.create(name)


def _sender_allowed(entry, sender: str) -> bool:
    allowed = [a.strip().lower() for a in _setting(entry, "allowed_senders", []) or [] if a.strip()]
    if not allowed:
        return True
    sender = sender.lower()
    return any(sender == a or (a.startswith("@") and sender.endswith(a)) for a in allowed)


def _note(box, folder: str, msg, reason: str) -> None:
    """A short note beside a failed message in its folder: what was refused and why."""
    note = EmailMessage()
    note["From"] = settings.DEFAULT_FROM_EMAIL
    note["To"] = msg.from_ or settings.DEFAULT_FROM_EMAIL
    note["Subject"] = _("Not processed: %(subject)s") % {"subject": (msg.subject or "")[:150]}
    note["Date"] = email.utils.formatdate(localtime=True)
    note["In-Reply-To"] = _message_id(msg)
    note.set_content(_("Leitplanke did not process this message.\n\nReason: %(reason)s\nMessage-ID: %(id)s\n")
                     % {"reason": reason, "id": _message_id(msg)})
    box.append(note.as_bytes(), folder, dt=None, flag_set=[])


def _message_id(msg) -> str:
    values = msg.headers.get("message-id") or ()
    if values and values[0].strip():
        return values[0].strip()
    return "sha256:" + hashlib.sha256(msg.obj.as_bytes()).hexdigest()


def _key(entry, message_id: str, part: int) -> str:
    return "imap:" + hashlib.sha256(f"{entry.pk}\0{message_id}\0{part}".encode()).hexdigest()


def _fail(box, entry, msg, folder: str, reason: str, code: str) -> None:
    """Move the message to the failed folder with a note. The audit trail names the message by a digest of
    its Message-ID and the reason by its code: both texts may carry e-mail addresses."""
    _ensure_folder(box, folder)
    box.move(msg.uid, folder)
    _note(box, folder, msg, reason)
    audit_event_record(actor=SYSTEM, tenant=entry.tenant, event_type="mail.refused", obj=entry,
                       details={"connector": entry.key, "reason": code,
                                "message": hashlib.sha256(_message_id(msg).encode()).hexdigest()[:16]})


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or type(exc).__name__


def _message_payload(msg) -> dict:
    return {"subject": msg.subject or "", "from": msg.from_ or "", "date": msg.date_str or "",
            "message_id": _message_id(msg), "body": (msg.text or msg.html or "")[:BODY_LIMIT]}


def _take(entry, use_case_key: str, msg) -> tuple[int, str]:
    """The items of one message: (how many were created or found, "" or the reason for clarification)."""
    message_id = _message_id(msg)
    attachments = [a for a in msg.attachments if a.payload]
    create = {"actor": SYSTEM, "tenant": entry.tenant, "use_case_key": use_case_key, "source": ItemSource.EMAIL,
                  "external_id": message_id[:200]}
    if _setting(entry, "per_attachment", False):
        if not attachments:
            reason = _("The message has no attachment to read.")
            intake.work_item_create(**create, payload=_message_payload(msg), idempotency_key=_key(entry, message_id, 0),
                                    clarification=reason)
            return 1, reason
        for position, attachment in enumerate(attachments, start=1):
            upload = SimpleUploadedFile(attachment.filename or f"anhang-{position}", attachment.payload)
            try:
                intake.work_item_create(**create, files=[upload], idempotency_key=_key(entry, message_id, position))
            except intake.UnsupportedFileType as exc:
                reason = _reason(exc)
                intake.work_item_create(**create, payload=_message_payload(msg),
                                        idempotency_key=_key(entry, message_id, position), clarification=reason)
                return position, reason
        return len(attachments), ""
    uploads = [SimpleUploadedFile(a.filename or f"anhang-{n}", a.payload) for n, a in enumerate(attachments, 1)]
    try:
        intake.work_item_create(**create, payload=_message_payload(msg), files=uploads,
                                idempotency_key=_key(entry, message_id, 0))
    except intake.UnsupportedFileType as exc:
        reason = _reason(exc)
        intake.work_item_create(**create, payload=_message_payload(msg), idempotency_key=_key(entry, message_id, 0),
                                clarification=reason)
        return 1, reason
    return 1, ""


def mailbox_poll(*, entry, use_case_key: str, limit: int = 200) -> MailboxResult:
    """Every message in the connector's folder, oldest first."""
    result = MailboxResult()
    processed = _setting(entry, "processed_folder", "Verarbeitet")
    failed = _setting(entry, "failed_folder", "Fehlgeschlagen")
    max_bytes = int(_setting(entry, "max_bytes", 25 * 1024 * 1024))
    with mailbox_open(entry) as box:
        for msg in box.fetch(mark_seen=False, bulk=False, limit=limit):
            if msg.size > max_bytes:
                _fail(box, entry, msg, failed, _("The message is larger than %(n)s MB.")
                      % {"n": round(max_bytes / (1024 * 1024), 1)}, "too_large")
                result.failed += 1
                continue
            sender = (msg.from_ or "").strip()
            if not _sender_allowed(entry, sender):
                _fail(box, entry, msg, failed,
                      _("The sender %(s)s is not on the mailbox's allow-list.") % {"s": sender}, "sender_not_allowed")
                result.failed += 1
                continue
            try:
                count, clarification = _take(entry, use_case_key, msg)
            except (ValidationError, PermissionDenied) as exc:
                _fail(box, entry, msg, failed, _reason(exc), "refused")
                result.failed += 1
                continue
            result.items += count
            if clarification:
                _fail(box, entry, msg, failed, clarification, "unreadable")
                result.clarification += 1
            else:
                _ensure_folder(box, processed)
                box.move(msg.uid, processed)
                result.processed += 1
    return result


def mailboxes_poll() -> MailboxResult:
    """Beat: every active mailbox intake connector, for the (first) use case that names it."""
    total = MailboxResult()
    for entry in intake_connectors(connector_type=ConnectorType.IMAP):
        use_case = entry.use_cases.order_by("key").first()
        if use_case is None:
            continue
        try:
            result = mailbox_poll(entry=entry, use_case_key=use_case.key)
        except Exception:  # one unreachable mailbox must not keep the others from being read
            logger.warning("Mailbox %s could not be read.", entry.key, exc_info=True)
            continue
        for name in ("items", "processed", "failed", "clarification"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
    return total
