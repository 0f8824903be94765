"""Document to text: one reading of every file an item brings, before any engine runs.

A PDF is read from its text layer in reading order (rows top to bottom, page by page); a page without a
text layer (a scan) or with a broken one (unmapped glyphs, garbage characters) is read by OCR. Images
(PNG, JPEG, TIFF, ...) are read by OCR. An e-mail gives its subject, sender and body (an HTML body
converted to text) and each attachment as a document of its own. Plain text and XML are decoded.

Every word keeps its page and box, and every page says how it was read (text layer, or OCR with its
mean confidence), so that a reviewer sees where a value came from. A library without database access:
`read_file` takes bytes and returns a `ReadDocument`; failures become reasons, never exceptions."""
import email
import email.policy
import email.utils
import logging
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from automations.documents import ocr
from automations.documents import pdf as pdfs
from automations.documents.html import html_to_text
from automations.documents.pdf import EMPTY, OCR, PageInfo, Row, TextLayer

logger = logging.getLogger(__name__)

MAX_DEPTH = 3  # an e-mail in an e-mail in an e-mail; deeper nesting is not read
MAX_ATTACHMENTS = 20
MAX_OCR_PAGES = 10  # a 200-page scan must not hold a worker for ten minutes
MAX_TEXT_CHARS = 500_000
# A page whose text layer holds fewer characters than this is a scan (a page number or a stamp over an
# image is not a text layer).
MIN_PAGE_CHARS = 20
SPARSE_PAGE_CHARS = 80

PDF, IMAGE, EMAIL, TEXT, XML, OTHER = "pdf", "image", "email", "text", "xml", "other"
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")
MAIL_HEADERS = re.compile(rb"^(?:from|to|subject|date|received|return-path|message-id|mime-version|delivered-to|"
                          rb"reply-to|cc|content-type|x-[a-z0-9-]{1,40}):[ \t]", re.I)


@dataclass
class Mail:
    subject: str = ""
    sender: str = ""  # the address only
    sender_name: str = ""
    to: str = ""
    date: str = ""
    body: str = ""


@dataclass
class ReadDocument:
    """One file (or attachment) as text, with its pages and words where it has pages."""

    name: str
    kind: str
    data: bytes = field(repr=False, default=b"")
    text: str = ""
    layer: TextLayer | None = None  # positioned rows (PDF text layer or OCR), for engines that read layout
    pages: list[PageInfo] = field(default_factory=list)
    mail: Mail | None = None
    attachments: list["ReadDocument"] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    truncated: bool = False

    def walk(self):
        """This document and every attachment below it, depth first, in the order they arrived."""
        yield self
        for child in self.attachments:
            yield from child.walk()

    @property
    def ocr_pages(self) -> int:
        return sum(p.method == OCR for p in self.pages)

    def summary(self) -> dict:
        """What a run records of the reading (no content)."""
        out = {"name": self.name, "kind": self.kind, "chars": len(self.text),
               "pages": [{"page": p.number + 1, "method": p.method, "chars": p.chars,
                          **({"ocr_confidence": p.ocr_confidence} if p.ocr_confidence is not None else {})}
                         for p in self.pages]}
        if self.attachments:
            out["attachments"] = [a.summary() for a in self.attachments]
        if self.reasons:
            out["reasons"] = list(self.reasons)
        return out


def kind_of(data: bytes, name: str = "", content_type: str = "") -> str:
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return IMAGE
    lowered = name.lower()
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if lowered.endswith(".eml") or content_type == "message/rfc822" or MAIL_HEADERS.match(stripped):
        return EMAIL
    if stripped.startswith(b"<?xml") or (stripped.startswith(b"<") and (lowered.endswith(".xml") or b"xmlns" in head)):
        return XML
    if _decode(head) is not None and b"\x00" not in head:
        return TEXT
    return OTHER


def read_file(name: str, data: bytes, content_type: str = "", *, depth: int = 0,
              ocr_budget: list | None = None) -> ReadDocument:
    """Read one file. Never raises: what cannot be read becomes a reason on the document."""
    budget = ocr_budget if ocr_budget is not None else [MAX_OCR_PAGES]
    kind = kind_of(data, name, content_type)
    doc = ReadDocument(name=name, kind=kind, data=data)
    try:
        if kind == PDF:
            _read_pdf(doc, budget)
        elif kind == IMAGE:
            _read_image(doc, budget)
        elif kind == EMAIL:
            _read_mail(doc, depth, budget)
        elif kind == XML:
            doc.text = _xml_text(data)
        elif kind == TEXT:
            doc.text = (_decode(data) or "").replace("\r\n", "\n")
        else:
            doc.reasons.append(_("%(name)s is neither a PDF, an image, an e-mail nor text and was not read.")
                               % {"name": name})
    except ocr.OcrUnavailable as exc:
        logger.error("OCR unavailable: %s", exc)
        doc.reasons.append(_("%(name)s needs OCR, but the OCR program (tesseract) is not installed on the worker.")
                           % {"name": name})
    except Exception as exc:  # an unreadable file is a reason for the clerk, not a crash
        logger.info("document %s unreadable: %s", name, exc, exc_info=True)
        doc.reasons.append(_("%(name)s could not be read: %(error)s") % {"name": name, "error": str(exc)[:200]})
    if len(doc.text) > MAX_TEXT_CHARS:
        doc.text, doc.truncated = doc.text[:MAX_TEXT_CHARS], True
        doc.reasons.append(_("%(name)s holds more text than is read; only its first %(n)s characters were used.")
                           % {"name": name, "n": f"{MAX_TEXT_CHARS:,}"})
    return doc


def _decode(data: bytes) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and len(data) >= 2048:
            return data[:exc.start].decode("utf-8")  # a head cut inside a character
    text = data.decode("cp1252", errors="replace")
    controls = sum(1 for c in text if ord(c) < 9 or 13 < ord(c) < 32)
    return None if controls > len(text) / 50 else text


# --- PDF ------------------------------------------------------------------------------------------------

def needs_ocr(info: PageInfo) -> bool:
    """A page is OCR'd when it has no text layer worth the name (a scan, perhaps with a stamp or page
    number on it) or a broken one."""
    return info.garbled or info.chars < MIN_PAGE_CHARS or (info.images > 0 and info.chars < SPARSE_PAGE_CHARS)


def _read_pdf(doc: ReadDocument, budget: list) -> None:
    layer = pdfs.text_layer(doc.data)
    if not layer.page_info:  # the pypdf fallback on a file pdfminer refused, without page data
        layer.page_info = [PageInfo(number=i, width=595.0, height=h) for i, h in enumerate(layer.page_heights)]
    rows: list[Row] = []
    for info in layer.page_info:
        if needs_ocr(info) and budget[0] > 0:
            try:
                page = _ocr_pdf_page(doc.data, info)
            except ocr.OcrUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001
                logger.info("OCR of page %s failed: %s", info.number + 1, exc)
                doc.reasons.append(_("Page %(n)s could not be read by OCR.") % {"n": info.number + 1})
                page = None
            if page is not None:
                budget[0] -= 1
                info.method, info.ocr_confidence, info.chars = OCR, page.info.ocr_confidence, page.info.chars
                rows.extend(page.rows)
                continue
        elif needs_ocr(info):
            doc.reasons.append(_("Page %(n)s was not read by OCR: at most %(max)s pages of an item are.")
                               % {"n": info.number + 1, "max": MAX_OCR_PAGES})
        if info.chars == 0:
            info.method = EMPTY
        rows.extend(r for r in layer.rows if r.page == info.number)
    layer.rows = rows
    layer.garbled = False
    doc.layer = layer
    doc.pages = layer.page_info
    doc.text = layer.text()


def _ocr_pdf_page(data: bytes, info: PageInfo):
    rendered = ocr.render_pdf_pages(data, [info.number])
    if not rendered:
        return None
    number, image, width, height = rendered[0]
    return ocr.read_image(image, number=number, width_pt=width, height_pt=height)


# --- images ---------------------------------------------------------------------------------------------

def _read_image(doc: ReadDocument, budget: list) -> None:
    frames = ocr.image_frames(doc.data, limit=max(budget[0], 0))
    rows: list[Row] = []
    pages: list[PageInfo] = []
    for number, image, width, height in frames:
        page = ocr.read_image(image, number=number, width_pt=width, height_pt=height)
        budget[0] -= 1
        rows.extend(page.rows)
        pages.append(page.info)
    if not frames:
        doc.reasons.append(_("%(name)s was not read by OCR: at most %(max)s pages of an item are.")
                           % {"name": doc.name, "max": MAX_OCR_PAGES})
    doc.layer = TextLayer(rows=rows, pages=len(pages), page_heights=[p.height for p in pages], has_images=True,
                          source="ocr", page_info=pages)
    doc.pages = pages
    doc.text = doc.layer.text()


# --- e-mail ---------------------------------------------------------------------------------------------

def _read_mail(doc: ReadDocument, depth: int, budget: list) -> None:
    message = email.message_from_bytes(doc.data, policy=email.policy.default)
    mail = Mail()
    mail.subject = " ".join(str(message.get("Subject", "") or "").split())
    sender_name, sender = email.utils.parseaddr(str(message.get("From", "") or ""))
    mail.sender, mail.sender_name = sender, sender_name
    mail.to = str(message.get("To", "") or "")
    mail.date = str(message.get("Date", "") or "")
    mail.body = _mail_body(message)
    doc.mail = mail
    doc.text = "\n\n".join(t for t in (mail.subject, mail.body) if t)
    if depth >= MAX_DEPTH:
        doc.reasons.append(_("%(name)s is nested too deeply; its attachments were not read.") % {"name": doc.name})
        return
    for number, part in enumerate(_attachments(message)):
        if number >= MAX_ATTACHMENTS:
            doc.reasons.append(_("%(name)s has more than %(n)s attachments; the others were not read.")
                               % {"name": doc.name, "n": MAX_ATTACHMENTS})
            break
        name, data, content_type = part
        doc.attachments.append(read_file(name, data, content_type, depth=depth + 1, ocr_budget=budget))


def attachment_data(data: bytes, path: list[int]) -> tuple[str, bytes] | None:
    """The name and bytes of an e-mail's attachment at `path` (its index among the mail's attachments as
    `read_file` read them, then among the attachments of that one, for a forwarded mail): what the review
    page renders to show an attachment's pages. None when there is no such attachment."""
    found: tuple[str, bytes] | None = None
    for depth, index in enumerate(path):
        if depth > MAX_DEPTH or index < 0 or index >= MAX_ATTACHMENTS:
            return None
        message = email.message_from_bytes(data, policy=email.policy.default)
        for number, (name, content, _content_type) in enumerate(_attachments(message)):
            if number == index:
                found, data = (name, content), content
                break
        else:
            return None
    return found


def _mail_body(message) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError):  # an unknown charset: the bytes as Latin-1 rather than nothing
        content = (body.get_payload(decode=True) or b"").decode("latin-1")
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    if body.get_content_type() == "text/html":
        content = html_to_text(content)
    lines = [line.rstrip() for line in str(content).replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _attachments(message):
    """(name, bytes, content type) of every attachment; a forwarded message as an e-mail of its own."""
    body = message.get_body(preferencelist=("plain", "html"))
    for part in message.walk():
        if part is message or part is body or (part.is_multipart() and part.get_content_type() != "message/rfc822"):
            continue
        disposition = part.get_content_disposition()
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            data = inner.as_bytes(policy=email.policy.default) if hasattr(inner, "as_bytes") else b""
            yield (part.get_filename() or "forwarded.eml", data, "message/rfc822")
            continue
        if _inside_forwarded(message, part):
            continue
        if disposition != "attachment" and content_type.startswith("text/") and part.get_filename() is None:
            continue  # the other alternative of the body
        if disposition != "attachment" and part.get("Content-ID"):
            continue  # an image the HTML body shows (a logo in the signature), not a document
        data = part.get_payload(decode=True)
        if not data:
            continue
        yield (part.get_filename() or f"attachment.{content_type.split('/')[-1]}", data, content_type)


def _inside_forwarded(message, target) -> bool:
    """Parts of a forwarded message are read with that message, not again as the outer mail's own."""
    for part in message.walk():
        if part is not message and part.get_content_type() == "message/rfc822":
            for inner in part.walk():
                if inner is target and inner is not part:
                    return True
    return False


# --- XML ------------------------------------------------------------------------------------------------

def _xml_text(data: bytes) -> str:
    """The text content of an XML file, one element's text a line (no entity or network access)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        return (_decode(data) or "")
    texts = [" ".join(t.split()) for t in root.itertext()]
    return "\n".join(t for t in texts if t)
