"""The invoice fields of DESIGN.md's table, their order, and the forms values take there."""
import re
from dataclasses import dataclass, field

from automations.engines.validation import decimal_string, parse_decimal

FIELDS = (
    "invoice_number", "document_type", "issue_date", "seller_name", "seller_vat_id", "buyer_name",
    "net_total", "tax_total", "gross_total", "amount_due", "currency", "iban",
)
AMOUNT_FIELDS = ("net_total", "tax_total", "gross_total", "amount_due")

# UNTDID 1001 document type codes named by the contract; every other code is "other".
TYPE_CODES = {"380": "invoice", "381": "credit_note", "384": "correction", "389": "self_billed", "326": "partial"}

STRUCTURED_CONFIDENCE = 0.99


@dataclass
class Found:
    """One field value with where it came from; `confidence` is set by the extractor that found it."""

    value: str
    explanation: str
    confidence: float = STRUCTURED_CONFIDENCE
    kind: str = "xml"  # the kind of evidence (text.CONF's keys for the page text), kept in the result's meta
    # What else the page says about the value (text.document_cues), weighed by the confidence model.
    cues: dict[str, float] = field(default_factory=dict)


def document_type(code: str) -> str:
    return TYPE_CODES.get(code.strip(), "other")


def collapse(text: str | None) -> str:
    return " ".join((text or "").split())


def amount(text: str | None) -> str | None:
    value = parse_decimal(text)
    return decimal_string(value) if value is not None else None


def iban(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def xml_amount(text: str | None) -> str | None:
    """An xs:decimal as written in the XML; anything else is not an amount."""
    text = (text or "").strip()
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        return None
    return amount(text)
