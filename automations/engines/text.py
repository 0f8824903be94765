"""Plain text of an item for text engines (rules, classifier): its text input fields, then the text of
its files (PDF text layer, plain text, e-mail bodies)."""
import email
import io
from email import policy

from automations.engines import limits
from automations.engines.base import EngineInput

TEXT_TYPES = ("text", "long_text", "email")


class TextTooLong(ValueError):
    """The text of an item's files is longer than the engines read (PIPELINE_MAX_TEXT_CHARS); the message
    is the reason the clerk sees."""


def pdf_text(data: bytes, max_pages: int = 20) -> str:
    # A heavy library, imported on first use so that processes that never need it do not load it.
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join((page.extract_text() or "") for page in reader.pages[:max_pages])
    except Exception:  # noqa: BLE001 - an unreadable PDF has no text; the engines say so as a reason
        return ""


def file_text(name: str, content_type: str, data: bytes) -> str:
    lowered = name.lower()
    if lowered.endswith(".pdf") or content_type == "application/pdf" or data[:5] == b"%PDF-":
        return pdf_text(data)
    if lowered.endswith(".eml") or content_type == "message/rfc822":
        message = email.message_from_bytes(data, policy=policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        return f"{message.get('subject', '')}\n{body.get_content() if body else ''}"
    if content_type.startswith("text/") or lowered.endswith((".txt", ".csv", ".xml", ".json")):
        return data.decode("utf-8", errors="replace")
    return ""


def item_text(item: EngineInput, columns: list[str] | None = None) -> str:
    parts = []
    for name in columns or list(item.payload):
        value = item.payload.get(name)
        if isinstance(value, str):
            parts.append(value)
    for f in item.files:
        text = file_text(f.name, f.content_type, f.read())
        if len(text) > limits.text_limit():
            raise TextTooLong(limits.text_too_long_message(f.name, len(text)))
        parts.append(text)
    return "\n".join(p for p in parts if p)
