"""Stored files: what a file is, judged by its content alone, and the one way the portal hands a stored
file to a browser.

The type a file is served with never comes from the uploader (a declared content type) or from its
name: both are the attacker's to choose. `sniff` reads the first bytes. Only a short allow-list of types
that cannot run script in the portal's origin is shown inline (PDF and raster images); everything else,
HTML, SVG and XML included, is a download as application/octet-stream. Every response carries
`nosniff`, `Cache-Control: private, no-store` and a Content-Security-Policy that forbids script; inline
images and downloads are sandboxed as well.

A PDF is not sandboxed: older Chromium builds (and browsers built on them) refuse to start their PDF
viewer in a CSP sandbox and show an empty page. A file whose first bytes are a PDF header is served as
application/pdf with `nosniff`, so the browser hands it to its PDF viewer (which runs PDF JavaScript, if
any, isolated from the page's origin) and never parses it as HTML; `default-src 'none'` keeps the
hosting document from loading anything but the document itself."""
import re

from django.core import signing
from django.http import FileResponse

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
TIFF = "image/tiff"
XML = "application/xml"
TEXT = "text/plain"
EMAIL = "message/rfc822"
HTML = "text/html"
SVG = "image/svg+xml"
ZIP = "application/zip"
OLE = "application/x-ole-storage"
UNKNOWN = "application/octet-stream"

# Shown inline: types a browser renders without running script in the portal's origin.
INLINE_TYPES = frozenset({PDF, PNG, JPEG, GIF, WEBP})
IMAGE_TYPES = frozenset({PNG, JPEG, GIF, WEBP, TIFF})
# Enough for every signature below and for the first element of a markup file after its prolog.
HEAD_BYTES = 4096

CSP_SANDBOXED = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
CSP_PDF = "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"PK\x03\x04", ZIP),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
)
# Root elements that make a browser treat markup as a document that can run script (WHATWG MIME
# sniffing, "identify an unknown MIME type", plus the elements that carry script).
_HTML_TAGS = {"html", "head", "body", "script", "iframe", "frameset", "frame", "object", "embed", "title",
              "style", "table", "div", "span", "a", "b", "br", "p", "h1", "font", "img", "form", "input", "meta",
              "link", "base", "math", "xhtml"}
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][A-Za-z0-9_.:-]*)")
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{0,76}:[ \t]")
_MAIL_HEADERS = (b"from:", b"to:", b"subject:", b"date:", b"received:", b"return-path:", b"message-id:",
                 b"mime-version:", b"delivered-to:")


def sniff(head: bytes) -> str:
    """The content type of a file judged by its first bytes (`HEAD_BYTES` are enough). Markup that a
    browser would run (HTML, SVG, XHTML, XML with a style sheet) is HTML or SVG, never XML or text."""
    head = head[:HEAD_BYTES]
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if b"%PDF-" in head[:1024]:
        # A PDF reader accepts up to 1 KB before the header; served as PDF with nosniff, it is never HTML.
        return PDF
    text = _as_text(head)
    if text is None:
        return UNKNOWN
    stripped = text.lstrip(b" \t\r\n\f")
    if stripped.startswith(b"<"):
        return _markup(stripped)
    if _looks_like_email(stripped):
        return EMAIL
    return TEXT


def _as_text(head: bytes) -> bytes | None:
    """The head as 8-bit text (UTF-16 with a byte order mark recoded to UTF-8), or None for binary data:
    a NUL byte or more than a few control characters."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").lstrip("\ufeff").encode("utf-8")
    if b"\x00" in head:
        return None
    controls = sum(1 for byte in head if (byte < 32 and byte not in (9, 10, 12, 13)) or byte == 127)
    return None if controls > len(head) // 100 + 1 else head


def _markup(text: bytes) -> str:
    """Markup by its first element after the prolog (declaration, processing instructions, comments and
    document type are skipped)."""
    rest = text.lower()
    while True:
        rest = rest.lstrip(b" \t\r\n\f")
        if rest.startswith(b"<?xml-stylesheet"):
            return HTML  # a style sheet (XSLT) may turn the document into HTML in the browser
        if rest.startswith(b"<?"):
            end = rest.find(b"?>")
            rest = rest[end + 2:] if end >= 0 else b""
        elif rest.startswith(b"<!--"):
            end = rest.find(b"-->")
            rest = rest[end + 3:] if end >= 0 else b""
        elif rest.startswith(b"<!doctype"):
            declared = rest[:rest.find(b">") if b">" in rest else 200]
            if b"html" in declared:
                return HTML
            if b"svg" in declared:
                return SVG
            rest = rest[len(declared) + 1:]
        else:
            break
    match = _FIRST_ELEMENT.match(rest)
    if match is None:
        return TEXT if rest else XML
    local = match.group(1).decode("ascii", errors="replace").rsplit(":", 1)[-1]
    if local == "svg":
        return SVG
    if local in _HTML_TAGS or b"http://www.w3.org/1999/xhtml" in rest[:2048]:
        return HTML
    return XML


def _looks_like_email(text: bytes) -> bool:
    lines = text.split(b"\n", 12)[:12]
    headers = [line for line in lines if _HEADER_LINE.match(line)]
    return bool(lines) and _HEADER_LINE.match(lines[0]) is not None and len(headers) >= 2 and any(
        line.lower().startswith(_MAIL_HEADERS) for line in headers)


def sniff_file(field_file) -> str:
    """The content type of a stored file (a FileField's file), by its first bytes."""
    with field_file.open("rb") as handle:
        return sniff(handle.read(HEAD_BYTES))


def served_type(content_type: str) -> str:
    """What a browser gets: the sniffed type when it is on the inline allow-list, else a download."""
    return content_type if content_type in INLINE_TYPES else UNKNOWN


def harden(response, content_type: str):
    """The headers every stored or generated document carries: no sniffing, no caching, no script."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = CSP_PDF if content_type == PDF else CSP_SANDBOXED
    return response


def stored_file_response(field_file, *, filename: str, download: bool = False) -> FileResponse:
    """A stored file for the browser, typed by its content: PDFs and raster images inline (unless
    `download`), anything else as an attachment of type application/octet-stream. Raises OSError when
    the file is gone from storage."""
    handle = field_file.open("rb")
    try:
        content_type = sniff(handle.read(HEAD_BYTES))
        handle.seek(0)
    except OSError:
        handle.close()
        raise
    inline = content_type in INLINE_TYPES and not download
    response = FileResponse(handle, as_attachment=not inline, filename=filename or "file",
                            content_type=content_type if inline else UNKNOWN)
    return harden(response, content_type if inline else UNKNOWN)


# A page that shows a file (a PDF in a frame, page images) records that look itself; the file requests it
# embeds carry this token, so they are not recorded a second time.
PAGE_TOKEN_SALT = "reviews.document-pages"
PAGE_TOKEN_MAX_AGE = 15 * 60


def page_token(user, item_file) -> str:
    """Signed for the files one page embeds: the page view recorded the access already."""
    return signing.dumps({"u": user.pk, "f": item_file.pk}, salt=PAGE_TOKEN_SALT, compress=True)


def page_token_valid(token: str, user, item_file) -> bool:
    try:
        data = signing.loads(token, salt=PAGE_TOKEN_SALT, max_age=PAGE_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return False
    return data == {"u": user.pk, "f": item_file.pk}
