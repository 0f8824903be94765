"""The use case's declared text input fields, filled from what the document stage read.

A mail fills `subject`, `body` and the sender's address field by their names (a document without mail
headers fills `subject` with its first line and `body` with the rest); the document's whole text
(for a mail: subject, body and the text of its attachments) fills the first text field the names leave
open (`text`, `document`, `content`, ... or any other text field). A value the item brought in its
payload is never overwritten."""
from automations.documents.reading import ReadDocument

SUBJECT_NAMES = ("subject", "betreff", "title", "titel")
BODY_NAMES = ("body", "message", "nachricht", "mail_body", "inhalt_mail")
SENDER_NAMES = ("sender_email", "sender", "from", "from_email", "email", "absender", "e_mail")
TEXT_NAMES = ("text", "document", "document_text", "content", "inhalt", "dokument", "volltext", "full_text")
TEXT_TYPES = ("text", "long_text")
MAX_FIELD_CHARS = 100_000  # a classifier reads the beginning of a document; nobody reviews 100 pages of it


def document_text(doc: ReadDocument) -> str:
    """A document's text and, after it, its attachments' texts, each separated by a blank line."""
    return "\n\n".join(t for t in (d.text.strip() for d in doc.walk()) if t)


def fill_input_fields(input_fields: list[dict], payload: dict, documents: list[ReadDocument]) -> dict:
    """The input fields the documents fill (only those the payload leaves empty)."""
    if not documents:
        return {}
    filled: dict[str, str] = {}
    specs = [s for s in input_fields if s.get("name") and not str(payload.get(s["name"]) or "").strip()]
    mail = next((d.mail for d in documents if d.mail is not None), None)
    taken: set[str] = set()
    if mail is not None:
        for names, value, types in ((SUBJECT_NAMES, mail.subject, TEXT_TYPES),
                                    (BODY_NAMES, mail.body, TEXT_TYPES),
                                    (SENDER_NAMES, mail.sender, ("email", "text"))):
            spec = next((s for s in specs if s["name"].lower() in names and s.get("type", "text") in types
                         and s["name"] not in taken), None)
            if spec is not None and value:
                filled[spec["name"]] = value[:MAX_FIELD_CHARS]
                taken.add(spec["name"])
    text = "\n\n".join(t for t in (document_text(d) for d in documents) if t)
    if mail is None and text:
        # A letter or ticket without mail headers: its first line is the subject, the rest the body.
        subject = next((s for s in specs
                        if s["name"].lower() in SUBJECT_NAMES and s.get("type", "text") in TEXT_TYPES), None)
        body = next((s for s in specs if s["name"].lower() in BODY_NAMES and s.get("type", "text") in TEXT_TYPES), None)
        if subject is not None and body is not None:
            first, _sep, rest = text.strip().partition("\n")
            filled[subject["name"]] = first.strip()[:1000]
            filled[body["name"]] = rest.strip()[:MAX_FIELD_CHARS]
            return filled
    if text and not (mail is not None and taken & {s["name"] for s in specs if s["name"].lower() in BODY_NAMES}):
        open_specs = [s for s in specs if s["name"] not in taken and s.get("type", "text") in TEXT_TYPES]
        spec = next((s for s in open_specs if s["name"].lower() in TEXT_NAMES), None)
        if spec is None:
            spec = next((s for s in open_specs if s.get("type") == "long_text"), None)
        if spec is None and not taken:
            spec = next(iter(open_specs), None)
        if spec is not None:
            filled[spec["name"]] = text[:MAX_FIELD_CHARS]
    return filled
