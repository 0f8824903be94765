"""Structured e-invoices: the EN 16931 business terms read from CII (ZUGFeRD 2.x, Factur-X, XRechnung),
ZUGFeRD 1.0 and UBL (XRechnung, Peppol) with namespace-agnostic XPath.

XPath goes by local names so that producers with slightly off namespaces still read, and CII and ZUGFeRD 1.0
share one path set (ZUGFeRD 1.0 only renames the containers). Where a term occurs more than once the first
non-empty occurrence in document order wins, and a monetary total given in several currencies is taken in
the invoice currency."""
import re
from dataclasses import dataclass, field

from lxml import etree

from automations.engines.invoice import fields as f
from automations.engines.validation import parse_date

CII = "cii"
ZUGFERD1 = "zugferd1"
UBL = "ubl"
SYNTAX_LABELS = {CII: "CII", ZUGFERD1: "ZUGFeRD 1.0", UBL: "UBL"}

# Guideline ids (BT-24) this engine knows; anything else is an unknown profile. Prefixes, because versions
# and extensions are appended (e.g. "...#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0").
KNOWN_PROFILES = (
    "urn:cen.eu:en16931:2017",  # EN 16931, XRechnung, Factur-X BASIC/EN16931/EXTENDED, Peppol BIS
    "urn:factur-x.eu:1p0:",  # Factur-X / ZUGFeRD 2.1+ MINIMUM and BASIC WL
    "urn:zugferd.de:2p0:",  # ZUGFeRD 2.0
    "urn:ferd:CrossIndustryDocument:invoice:1p0",  # ZUGFeRD 1.0 BASIC/COMFORT/EXTENDED
    "urn:fdc:peppol.eu:",
    "urn:xoev-de:kosit:standard:xrechnung",
    "urn:xeinkauf.de:kosit:",
)


class XmlUnreadable(Exception):
    """The bytes are not well-formed XML (or not XML at all)."""


@dataclass
class StructuredResult:
    syntax: str | None
    profile: str = ""
    found: dict[str, f.Found] = field(default_factory=dict)

    @property
    def known_profile(self) -> bool:
        return any(self.profile.startswith(prefix) or prefix in self.profile for prefix in KNOWN_PROFILES)


def _parser():
    # No entity expansion, no DTD loading, no network: an invoice from outside is untrusted input.
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def parse_xml(data: bytes):
    # E-invoices never carry a DTD; refusing any DOCTYPE shuts out entity expansion attacks ("billion
    # laughs") and external entities whatever the parser's defaults (as defusedxml's forbid_dtd does).
    if re.search(rb"<!DOCTYPE", data[:65536], re.I) or re.search(rb"<!ENTITY", data, re.I):
        raise XmlUnreadable("DOCTYPE/ENTITY declarations are not allowed in an e-invoice")
    if data[:1].isspace() or data[3:4].isspace():
        # Whitespace before the XML declaration is a common producer slip; the declaration must come first.
        bom = data.startswith(b"\xef\xbb\xbf")
        data = data[3:].lstrip() if bom else data.lstrip()
    try:
        root = etree.fromstring(data, parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise XmlUnreadable(str(exc)) from exc
    if root is None:
        raise XmlUnreadable("empty document")
    return root


def local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def syntax_of(root) -> str | None:
    name = local(root.tag)
    namespace = etree.QName(root.tag).namespace or ""
    if name == "CrossIndustryInvoice":
        return CII
    if name == "CrossIndustryDocument":
        return ZUGFERD1
    if name in ("Invoice", "CreditNote") and "oasis" in namespace:
        return UBL
    return None


def _l(name: str) -> str:
    return f"*[local-name()='{name}']"


def _path(*names: str) -> str:
    return "/".join(_l(n) for n in names)


def _texts(root, xpath: str):
    """Non-empty, whitespace-collapsed texts of the matching elements in document order."""
    for node in root.xpath(xpath):
        text = f.collapse(node if isinstance(node, str) else node.xpath("string()"))
        if text:
            yield node, text


def _first(root, xpath: str) -> str | None:
    return next((text for _node, text in _texts(root, xpath)), None)


def _amount_in_currency(nodes, currency: str | None) -> str | None:
    if not nodes:
        return None
    pick = next((n for n in nodes if currency and n.get("currencyID") == currency), nodes[0])
    return f.xml_amount(pick.xpath("string()"))


def read(root) -> StructuredResult:
    syntax = syntax_of(root)
    if syntax == UBL:
        return _read_ubl(root)
    if syntax in (CII, ZUGFERD1):
        return _read_cii(root, syntax)
    return StructuredResult(syntax=None)


def _read_cii(root, syntax: str) -> StructuredResult:
    label = SYNTAX_LABELS[syntax]
    doc_name = "ExchangedDocument" if syntax == CII else "HeaderExchangedDocument"
    doc = f"//{_l(doc_name)}"
    found: dict[str, f.Found] = {}

    def put(name, value, element):
        if value:
            found[name] = f.Found(value, f"{label} {element}")

    profile = _first(root, f"//{_path('GuidelineSpecifiedDocumentContextParameter', 'ID')}") or ""
    put("invoice_number", _first(root, f"{doc}/{_l('ID')}"), f"{doc_name}/ID")
    code = _first(root, f"{doc}/{_l('TypeCode')}")
    put("document_type", code and f.document_type(code), f"{doc_name}/TypeCode ({code})")
    raw_date = _first(root, f"{doc}/{_path('IssueDateTime', 'DateTimeString')}")
    date = parse_date(raw_date) if raw_date and (raw_date.isdigit() or "-" in raw_date) else None
    put("issue_date", date and date.isoformat(), f"{doc_name}/IssueDateTime/DateTimeString")
    put("seller_name", _first(root, f"//{_path('SellerTradeParty', 'Name')}"), "SellerTradeParty/Name")
    put("seller_vat_id",
        _first(root, f"//{_path('SellerTradeParty', 'SpecifiedTaxRegistration', 'ID')}[@schemeID='VA']"),
        "SellerTradeParty/SpecifiedTaxRegistration/ID[@schemeID='VA']")
    put("buyer_name", _first(root, f"//{_path('BuyerTradeParty', 'Name')}"), "BuyerTradeParty/Name")
    currency = _first(root, f"//{_l('InvoiceCurrencyCode')}")
    put("currency", currency and currency.upper(), "InvoiceCurrencyCode")
    summation = ("SpecifiedTradeSettlementHeaderMonetarySummation" if syntax == CII
                 else "SpecifiedTradeSettlementMonetarySummation")
    for name, element in (("net_total", "TaxBasisTotalAmount"), ("tax_total", "TaxTotalAmount"),
                          ("gross_total", "GrandTotalAmount"), ("amount_due", "DuePayableAmount")):
        # Both container names are tried: producers mix ZUGFeRD 1.0 and 2.x names.
        nodes = root.xpath(f"//{_path('SpecifiedTradeSettlementHeaderMonetarySummation', element)}"
                           f" | //{_path('SpecifiedTradeSettlementMonetarySummation', element)}")
        put(name, _amount_in_currency(nodes, currency), f"{summation}/{element}")
    iban = _first(root, f"//{_path('PayeePartyCreditorFinancialAccount', 'IBANID')}")
    put("iban", iban and f.iban(iban), "PayeePartyCreditorFinancialAccount/IBANID")
    return StructuredResult(syntax=syntax, profile=profile, found=found)


def _read_ubl(root) -> StructuredResult:
    found: dict[str, f.Found] = {}

    def put(name, value, element):
        if value:
            found[name] = f.Found(value, f"UBL {element}")

    is_credit_note = local(root.tag) == "CreditNote"
    profile = _first(root, f"/{_l(local(root.tag))}/{_l('CustomizationID')}") or ""
    top = f"/{_l(local(root.tag))}"
    put("invoice_number", _first(root, f"{top}/{_l('ID')}"), "cbc:ID")
    code_element = "CreditNoteTypeCode" if is_credit_note else "InvoiceTypeCode"
    code = _first(root, f"{top}/{_l(code_element)}") or ("381" if is_credit_note else None)
    put("document_type", code and f.document_type(code), f"cbc:{code_element} ({code})")
    date = parse_date(_first(root, f"{top}/{_l('IssueDate')}"))
    put("issue_date", date and date.isoformat(), "cbc:IssueDate")
    for name, party in (("seller_name", "AccountingSupplierParty"), ("buyer_name", "AccountingCustomerParty")):
        # BT-27/BT-44 are the legal names (RegistrationName); the trading name is only a fallback.
        legal = _first(root, f"{top}/{_path(party, 'Party', 'PartyLegalEntity', 'RegistrationName')}")
        if legal:
            put(name, legal, f"cac:{party}/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")
        else:
            put(name, _first(root, f"{top}/{_path(party, 'Party', 'PartyName', 'Name')}"),
                f"cac:{party}/cac:Party/cac:PartyName/cbc:Name")
    put("seller_vat_id",
        _first(root, f"{top}/{_path('AccountingSupplierParty', 'Party', 'PartyTaxScheme')}"
                     f"[{_path('TaxScheme', 'ID')}='VAT']/{_l('CompanyID')}"),
        "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID (VAT)")
    currency = _first(root, f"{top}/{_l('DocumentCurrencyCode')}")
    put("currency", currency and currency.upper(), "cbc:DocumentCurrencyCode")
    totals = f"{top}/{_l('LegalMonetaryTotal')}"
    for name, element in (("net_total", "TaxExclusiveAmount"), ("gross_total", "TaxInclusiveAmount"),
                          ("amount_due", "PayableAmount")):
        put(name, _amount_in_currency(root.xpath(f"{totals}/{_l(element)}"), currency),
            f"cac:LegalMonetaryTotal/cbc:{element}")
    put("tax_total", _amount_in_currency(root.xpath(f"{top}/{_path('TaxTotal', 'TaxAmount')}"), currency),
        "cac:TaxTotal/cbc:TaxAmount")
    iban = _first(root, f"{top}/{_path('PaymentMeans', 'PayeeFinancialAccount', 'ID')}")
    put("iban", iban and f.iban(iban), "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID")
    return StructuredResult(syntax=UBL, profile=profile, found=found)
