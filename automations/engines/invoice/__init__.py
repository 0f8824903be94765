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


def extract_invoice(data: bytes, filename: str = "", lookup=None, layer=None) -> EngineResult:
    """Fields of one invoice file. Never raises: failures come back as reasons with needs_clarification.

    `layer` is the file's text as the document stage read it (text layer, with OCR'd pages for scans);
    without it a PDF's text layer is read here and an image cannot be read."""
    try:
        return _extract(data or b"", filename, lookup, layer)
    except Exception:  # the contract is "never raise"; the item goes to clarification instead
        logger.exception("invoice extraction failed on %s", filename)
        return _clarify(_("The file could not be read (internal error while extracting)."), source="error")


def _clarify(reason: str, **meta) -> EngineResult:
    return EngineResult(reasons=[reason], needs_clarification=True, meta=meta)


def _extract(data: bytes, filename: str, lookup, layer=None) -> EngineResult:
    if not data:
        return _clarify(_("The file is empty."), source="none")
    if len(data) > MAX_BYTES:
        return _clarify(_("The file is larger than 50 MB and was not read."), source="none")
    kind = pdf.sniff(data)
    if kind == pdf.XML or (kind == pdf.UNKNOWN and filename.lower().endswith(".xml")):
        return _from_xml_file(data, lookup)
    if kind == pdf.IMAGE:
        if layer is not None and layer.char_count >= MIN_TEXT_CHARS:
            return _from_layer(layer, lookup, [])
        return _clarify(_("The file is an image in which no text could be read (scanned document); it needs "
                          "manual entry."), source="image")
    if kind != pdf.PDF:
        return _clarify(_("The file is neither a PDF nor an XML invoice."), source="none")
    return _from_pdf(data, lookup, layer)


def _from_xml_file(data: bytes, lookup) -> EngineResult:
    try:
        root = structured.parse_xml(data)
    except structured.XmlUnreadable as exc:
        return _clarify(_("The XML file is not well-formed and cannot be read: %(error)s") % {"error": str(exc)[:200]},
                        source="xml")
    result = structured.read(root)
    if result.syntax is None:
        return _clarify(_("The XML file is not an e-invoice (root element %(root)s).")
                        % {"root": structured.local(root.tag)}, source="xml")
    return _structured_result(result, attachment="", lookup=lookup)


def _structured_result(result: structured.StructuredResult, *, attachment: str, reasons=None,
                       lookup=None) -> EngineResult:
    reasons = list(reasons or [])
    needs_clarification = False
    if not result.profile:
        reasons.append(_("The e-invoice names no profile (guideline); its fields were read by the EN 16931 terms."))
    elif not result.known_profile:
        reasons.append(_("Unknown e-invoice profile %(profile)s: please check the extracted fields.")
                       % {"profile": result.profile[:120]})
        needs_clarification = True
    found = result.found.keys()
    if not {"invoice_number", "gross_total"} <= found and not {"invoice_number", "amount_due"} <= found:
        reasons.append(_("The e-invoice lacks its number or totals."))
        needs_clarification = True
    meta = {"source": "xml", "syntax": result.syntax, "profile": result.profile, "attachment": attachment}
    _cross_check_master_data(result.found, lookup, meta, reasons=reasons, from_xml=True)
    return _result(result.found, reasons, needs_clarification, meta)


def _from_pdf(data: bytes, lookup, layer=None) -> EngineResult:
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
    if layer is not None:
        return _from_layer(layer, lookup, reasons)
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
    return _from_layer(layer, lookup, reasons)


def _from_layer(layer, lookup, reasons: list) -> EngineResult:
    methods = sorted({p.method for p in layer.page_info}) if layer.page_info else [pdf.TEXT_LAYER]
    source = "ocr" if methods == [pdf.OCR] else ("text+ocr" if pdf.OCR in methods else "text")
    meta = {"source": source, "pages": layer.pages, "text_extractor": layer.source}
    ocr_confidences = [p.ocr_confidence for p in layer.page_info if p.ocr_confidence is not None]
    if ocr_confidences:
        meta["ocr_confidence"] = round(min(ocr_confidences), 1)
    if layer.char_count > limits.text_limit():
        return _clarify(limits.text_too_long_message(_("the PDF"), layer.char_count), **meta)
    if layer.pages == 0:
        return _clarify(_("The PDF has no pages that can be read."), **meta)
    # A scan may carry a few words of text (a stamp, a page number) over its page images.
    if layer.char_count < MIN_TEXT_CHARS or (layer.has_images and layer.char_count < SPARSE_TEXT_CHARS):
        return EngineResult(reasons=reasons + [_("Scanned PDF without a text layer: the invoice needs manual entry.")],
                            needs_clarification=True, meta=meta)
    extraction = text.extract_text_fields(layer, ocr=source != "text")
    found = extraction.found
    core = {"invoice_number", "gross_total", "amount_due", "net_total", "issue_date"} & found.keys()
    if not extraction.looks_like_invoice or len(core) < 2:
        return EngineResult(reasons=reasons + [_("The document does not look like an invoice (no invoice number, "
                                                 "date or totals found).")], needs_clarification=True, meta=meta)
    if source == "text":
        reasons.append(_("No e-invoice XML: the fields were read from the page text; please check them."))
    else:
        reasons.append(_("Scanned invoice: the fields were read by OCR; please check them."))
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
            field.confidence = max(field.confidence, 0.98)
            field.explanation += f"; {label}"
    if known_name:
        if item is None:
            found["seller_name"] = f.Found(f.collapse(known_name), label, 0.7, "master_data")
        elif _normal_name(item.value) == _normal_name(known_name):
            item.confidence = max(item.confidence, 0.98)
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
    meta["evidence"] = {s.field: found[s.field].kind for s in suggestions}
    cues = {s.field: found[s.field].cues for s in suggestions if found[s.field].cues}
    if cues:
        meta["cues"] = cues
    values = {s.field: s.value for s in suggestions}
    reasons = reasons + invoice_validation_reasons(values)
    return EngineResult(suggestions=suggestions, reasons=reasons, needs_clarification=needs_clarification, meta=meta)


@register_engine(ENGINE_KEY)
class InvoiceEngine:
    """Reads the item's first file; `parameters` may restrict the fields with "fields": [...]"""

    key = ENGINE_KEY

    def suggest(self, item: EngineInput, *, parameters: dict, artifact_ref: str = "") -> EngineResult:
        if item.documents:
            result = _from_documents(item.documents, item.lookup)
        elif not item.files:
            return _clarify(_("The item has no file to read an invoice from."), source="none")
        else:
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


INVOICE_KINDS = ("pdf", "xml", "image")


def _from_documents(documents: list, lookup) -> EngineResult:
    """The invoice among the item's documents: the first file (or e-mail attachment) that reads as an
    invoice; an e-invoice (XML) wins over a document read from its text."""
    candidates = [d for doc in documents for d in doc.walk() if d.kind in INVOICE_KINDS]
    if not candidates:
        mails = [d for doc in documents for d in doc.walk() if d.kind == "email"]
        if mails:
            return _clarify(_("The e-mail carries no invoice (no PDF, XML or scanned attachment)."), source="email")
        return _clarify(_("The file is neither a PDF nor an XML invoice."), source="none")
    results = []
    for doc in candidates:
        result = extract_invoice(doc.data, doc.name, lookup=lookup, layer=doc.layer)
        result.meta["document"] = doc.name
        if not result.needs_clarification and result.meta.get("source") == "xml":
            return result
        results.append(result)
    readable = [r for r in results if not r.needs_clarification]
    if readable:
        return max(readable, key=lambda r: len(r.suggestions))
    return results[0]
