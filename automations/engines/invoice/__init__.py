"""The invoice engine: EN 16931 fields from e-invoices (ZUGFeRD 1.0/2.x, Factur-X, XRechnung CII and UBL,
as PDF with embedded XML or as plain XML) and, without readable XML, from the PDF's text layer.

A library without database access: `extract_invoice` takes the file's bytes and returns suggestions for
the fields of DESIGN.md's invoice table, each with a confidence and the XML element or text cue it came
from. Anything it cannot do becomes a reason, never an exception."""
import logging
import re

from django.utils.translation import gettext as _

from automations.engines import limits
from automations.engines.base import EngineInput, EngineResult, FieldSuggestion, register_engine
from automations.engines.invoice import fields as f
from automations.engines.invoice import pdf, structured, text
from automations.engines.validation import invoice_validation_reasons

logger = logging.getLogger(__name__)

ENGINE_KEY = "invoice"
MIN_TEXT_CHARS = 20  # fewer characters than this on all pages: a scan, not a text layer
SPARSE_TEXT_CHARS = 80  # with page images, this little text is a scan's stamp or page number
MAX_BYTES = 50 * 1024 * 1024


def extract_invoice(data: bytes, filename: str = "", lookup=None) -> EngineResult:
    """Fields of one invoice file. Never raises: failures come back as reasons with needs_clarification."""
    try:
        return _extract(data or b"", filename, lookup)
    except Exception:  # noqa: BLE001 - the contract is "never raise"; the item goes to clarification instead
        logger.exception("invoice extraction failed on %s", filename)
        return _clarify(_("The file could not be read (internal error while extracting)."), source="error")


def _clarify(reason: str, **meta) -> EngineResult:
    return EngineResult(reasons=[reason], needs_clarification=True, meta=meta)


def _extract(data: bytes, filename: str, lookup) -> EngineResult:
    if not data:
        return _clarify(_("The file is empty."), source="none")
    if len(data) > MAX_BYTES:
        return _clarify(_("The file is larger than 50 MB and was not read."), source="none")
    kind = pdf.sniff(data)
    if kind == pdf.XML or (kind == pdf.UNKNOWN and filename.lower().endswith(".xml")):
        return _from_xml_file(data, lookup)
    if kind == pdf.IMAGE:
        return _clarify(_("The file is an image without a text layer (scanned document); it needs manual "
                          "entry."), source="image")
    if kind != pdf.PDF:
        return _clarify(_("The file is neither a PDF nor an XML invoice."), source="none")
    return _from_pdf(data, lookup)


def _from_xml_file(data: bytes, lookup) -> EngineResult:
    try:
        root = structured.parse_xml(data)
    except structured.XmlUnreadable as exc:
        return _clarify(_("The XML file is not well-formed and cannot be read: %(error)s") % {"error": str(exc)[:200]},
                        source="xml")
    result = structured.read(root)
    if result.syntax is None:
        return _clarify(_("The XML file is not an e-invoice (root element %(root)s).") % {"root": structured.local(root.tag)},
                        source="xml")
    return _structured_result(result, attachment="", lookup=lookup)


def _structured_result(result: structured.StructuredResult, *, attachment: str, reasons=None, lookup=None) -> EngineResult:
    reasons = list(reasons or [])
    needs_clarification = False
    if not result.profile:
        reasons.append(_("The e-invoice names no profile (guideline); its fields were read by the EN 16931 terms."))
    elif not result.known_profile:
        reasons.append(_("Unknown e-invoice profile %(profile)s: please check the extracted fields.")
                       % {"profile": result.profile[:120]})
        needs_clarification = True
    if not {"invoice_number", "gross_total"} <= result.found.keys() and not {"invoice_number", "amount_due"} <= result.found.keys():
        reasons.append(_("The e-invoice lacks its number or totals."))
        needs_clarification = True
    meta = {"source": "xml", "syntax": result.syntax, "profile": result.profile, "attachment": attachment}
    _cross_check_master_data(result.found, lookup, meta, reasons=reasons, from_xml=True)
    return _result(result.found, reasons, needs_clarification, meta)


def _from_pdf(data: bytes, lookup) -> EngineResult:
    reasons = []
    for name, content in _xml_attachments(pdf.attachments(data)):
        try:
            root = structured.parse_xml(content)
        except structured.XmlUnreadable as exc:
            reasons.append(_("The embedded XML %(name)s cannot be read (%(error)s); the page text was used instead.")
                           % {"name": name, "error": str(exc)[:120]})
            continue
        result = structured.read(root)
        if result.syntax is None:
            reasons.append(_("The embedded file %(name)s is not an e-invoice; the page text was used instead.")
                           % {"name": name})
            continue
        return _structured_result(result, attachment=name, reasons=reasons, lookup=lookup)
    return _from_text_layer(data, lookup, reasons)


def _xml_attachments(files: list[tuple[str, bytes]]):
    """XML attachments first by name, then any attachment whose content looks like XML."""
    named = [(n, c) for n, c in files if n.lower().endswith(".xml")]
    others = [(n, c) for n, c in files if not n.lower().endswith(".xml") and pdf.sniff(c[:1024]) == pdf.XML]
    return named + others


def _from_text_layer(data: bytes, lookup, reasons: list) -> EngineResult:
    try:
        layer = pdf.text_layer(data)
    except Exception as exc:  # noqa: BLE001 - a damaged PDF is a reason, not an error
        logger.info("PDF unreadable: %s", exc)
        return _clarify(_("The PDF is damaged and cannot be read: %(error)s") % {"error": str(exc)[:200]},
                        source="text")
    meta = {"source": "text", "pages": layer.pages, "text_extractor": layer.source}
    if layer.char_count > limits.text_limit():
        return _clarify(limits.text_too_long_message(_("the PDF"), layer.char_count), **meta)
    if layer.pages == 0:
        return _clarify(_("The PDF has no pages that can be read."), **meta)
    # A scan may carry a few words of text (a stamp, a page number) over its page images.
    if layer.char_count < MIN_TEXT_CHARS or (layer.has_images and layer.char_count < SPARSE_TEXT_CHARS):
        return EngineResult(reasons=reasons + [_("Scanned PDF without a text layer: the invoice needs manual entry.")],
                            needs_clarification=True, meta=meta)
    extraction = text.extract_text_fields(layer)
    found = extraction.found
    core = {"invoice_number", "gross_total", "amount_due", "net_total", "issue_date"} & found.keys()
    if not extraction.looks_like_invoice or len(core) < 2:
        return EngineResult(reasons=reasons + [_("The document does not look like an invoice (no invoice number, "
                                                 "date or totals found).")], needs_clarification=True, meta=meta)
    reasons.append(_("No e-invoice XML: the fields were read from the page text; please check them."))
    _cross_check_master_data(found, lookup, meta)
    return _result(found, reasons, False, meta)


def _normal_name(name: str) -> str:
    return re.sub(r"[^a-z0-9äöüß]", "", name.casefold())


def _cross_check_master_data(found: dict, lookup, meta: dict, *, reasons=None, from_xml=False) -> None:
    """A supplier known by VAT id or IBAN confirms those values, and the seller name when it agrees.

    Values read from XML keep their confidence (the XML is what the invoice says); there a differing name
    in master data becomes a reason for the clerk instead."""
    if lookup is None:
        return
    keys = {}
    if "seller_vat_id" in found:
        keys["vat_id"] = found["seller_vat_id"].value
    if "iban" in found:
        keys["iban"] = found["iban"].value
    if not keys:
        return
    try:
        record = lookup("supplier", **keys)
    except Exception as exc:  # noqa: BLE001 - master data is a help, never a reason to fail
        logger.warning("master data lookup failed: %s", exc)
        return
    if not record:
        return
    meta["supplier"] = str(record.get("number") or record.get("id") or "")
    label = _("master data supplier %(number)s") % {"number": meta["supplier"]}
    known_name = record.get("name")
    item = found.get("seller_name")
    if from_xml:
        if known_name and item and _normal_name(item.value) != _normal_name(known_name) and reasons is not None:
            reasons.append(_("The seller %(name)s differs from %(label)s (%(known)s).")
                           % {"name": item.value, "label": label, "known": known_name})
        return
    for name, key in (("seller_vat_id", "vat_id"), ("iban", "iban")):
        field = found.get(name)
        known = str(record.get(key) or "").replace(" ", "").upper()
        if field and known and known == field.value.replace(" ", "").upper():
            field.confidence = max(field.confidence, 0.97)
            field.explanation += f"; {label}"
    if known_name:
        if item is None:
            found["seller_name"] = f.Found(f.collapse(known_name), label, 0.7)
        elif _normal_name(item.value) == _normal_name(known_name):
            item.confidence = max(item.confidence, 0.95)
            item.explanation += f"; {label}"
        else:
            item.confidence = min(item.confidence, 0.5)
            item.explanation += "; " + _("differs from %(label)s (%(name)s)") % {"label": label, "name": known_name}


def _result(found: dict, reasons: list, needs_clarification: bool, meta: dict) -> EngineResult:
    suggestions = [
        FieldSuggestion(field=name, value=found[name].value, confidence=round(found[name].confidence, 3),
                        explanation=found[name].explanation, engine=ENGINE_KEY)
        for name in f.FIELDS if name in found and found[name].value not in (None, "")
    ]
    values = {s.field: s.value for s in suggestions}
    reasons = reasons + invoice_validation_reasons(values)
    return EngineResult(suggestions=suggestions, reasons=reasons, needs_clarification=needs_clarification, meta=meta)


@register_engine(ENGINE_KEY)
class InvoiceEngine:
    """Reads the item's first file; `parameters` may restrict the fields with "fields": [...]"""

    key = ENGINE_KEY

    def suggest(self, item: EngineInput, *, parameters: dict, artifact_ref: str = "") -> EngineResult:
        if not item.files:
            return _clarify(_("The item has no file to read an invoice from."), source="none")
        first = item.files[0]
        try:
            data = first.read()
        except OSError as exc:
            return _clarify(_("The file %(name)s cannot be opened: %(error)s") % {"name": first.name, "error": exc},
                            source="none")
        result = extract_invoice(data, first.name, lookup=item.lookup)
        wanted = (parameters or {}).get("fields")
        if wanted:
            result.suggestions = [s for s in result.suggestions if s.field in wanted]
        return result
