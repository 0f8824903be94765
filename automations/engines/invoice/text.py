"""Invoice fields from a PDF's text layer: labels and layout cues of German (and English) invoices.

Each field is looked for the way a clerk reads a printed invoice: a label ("Rechnungsnummer:",
"Zahlbetrag") and its value to the right on the same visual row, or in the line below when the label heads
a column; the seller and buyer blocks by their section headings; names from the letterhead, the sender line
above the address window or the footer when no block is labelled. Values are then checked against each
other (net + tax = gross picks the totals among all labelled amounts) and against master data, and the
confidence of each value says how often a value found this way was right on the measured samples.

Every pattern takes time linear in the text's length, however a document is made: repetitions are bounded
(a thousands group repeats at most six times, "gutschrift … selbst ausgestellt" spans at most 200
characters), and a run of spaces is scanned once, from where it begins, never again from each of its positions."""
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from automations.engines.invoice import fields as f
from automations.engines.invoice.calibration import calibrated, with_cues
from automations.engines.invoice.pdf import Row, Segment, TextLayer
from automations.engines.validation import (
    CENT,
    decimal_string,
    iban_valid,
    iban_well_formed,
    parse_date,
    parse_decimal,
    vat_id_valid,
    vat_id_well_formed,
)

# Confidence of each kind of evidence, below the structured 0.99: the share of right values of that kind on
# the development data (bench/invoice_corpus.py's dev set, the FeRD samples with their XML removed and the
# test layouts), shrunk towards the earlier estimate as if ten more values had been seen at it, at most
# 0.97. bench/invoice_accuracy.py checks it band by band on the held-out set; the tests check it on the
# samples and layouts (tests/automations/engines/test_invoice_text.py prints the calibration tables).
CONF = {
    "code_in_title": 0.97, "type_keyword": 0.97, "type_default": 0.6, "number_label": 0.97, "number_weak": 0.86,
    "date_label": 0.97, "date_weak": 0.97, "date_first": 0.5, "vat_label": 0.97, "vat_only": 0.93,
    "vat_guess": 0.84, "iban_label": 0.97, "iban_only": 0.94, "iban_payer": 0.0, "currency_label": 0.97,
    "currency_symbol": 0.97, "currency_default": 0.65, "sums_consistent": 0.97, "amount_label": 0.93,
    "amount_contradiction": 0.45, "amount_derived": 0.91, "due_label": 0.97, "due_from_gross": 0.97,
    "name_label": 0.97, "name_section": 0.97, "name_layout": 0.95, "name_agree": 0.97, "due_consistent": 0.97,
    "due_from_prepaid": 0.9,
}
# The same evidence read by OCR (misread characters, no font sizes for letterheads), measured on the
# dev set's scans and the FeRD samples' scans; never above CONF.
CONF_OCR = {
    "code_in_title": 0.87, "type_keyword": 0.92, "type_default": 0.54, "number_label": 0.97,
    "number_weak": 0.65, "date_label": 0.97, "date_weak": 0.97, "date_first": 0.5, "vat_label": 0.97,
    "vat_only": 0.93, "vat_guess": 0.84, "iban_label": 0.97, "iban_only": 0.93, "iban_payer": 0.0,
    "currency_label": 0.96, "currency_symbol": 0.97, "currency_default": 0.59, "sums_consistent": 0.97,
    "amount_label": 0.93, "amount_contradiction": 0.4, "amount_derived": 0.91, "due_label": 0.97,
    "due_from_gross": 0.96, "name_label": 0.88, "name_section": 0.97, "name_layout": 0.82, "name_agree": 0.97,
    "due_consistent": 0.97, "due_from_prepaid": 0.88,
}

# A postcode before its town ("12345 Ort", "F-75009 Paris"), or a British one ("BS1 4DJ Bristol").
POSTCODE = re.compile(r"\b(?:\d{4,5}|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})\s+\w")
LEGAL_FORM = re.compile(
    r"(?<![\w-])(GmbH|AG|KG|OHG|UG|GbR|mbH|SE|KGaA|PartG|e\.\s?K\.|e\.\s?V\.|a\.\s?G\.|Ltd\.?|Limited|Inc\.?|"
    r"LLC|S\.\s?A\.|SARL|SAS|SASU|EURL|SA|SNC|PLC|LLP|S\.\s?à\s?r\.\s?l\.|B\.\s?V\.|N\.\s?V\.|GesmbH|Co\.)(?![\w-])")
MONEY = re.compile(
    r"(?<![\d.,])(?:[-\u2212]\s?)?(?:\d{1,3}(?:[.,\u00a0\u202f' ]\d{3}){1,6}|\d+)[.,]\d{2}(?![\d])(?!\.\d)(?!\s?%)"
    r"(?:\s?-(?!\d))?")  # not a date's "01.02" nor a rate's "19,00 %"
DATE = re.compile(
    r"(?<!\d)(\d{1,2}\.\s?\d{1,2}\.\s?(?:\d{4}|\d{2})(?!\d)|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|"
    r"\d{1,2}(?:er)?\.?\s+(?:Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|"
    r"Dezember|January|February|March|May|June|July|October|December|janvier|février|fevrier|mars|avril|"
    r"mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre|janv|févr|avr|juil|déc|"
    r"Jan|Feb|Mär|Mar|Apr|Jun|Jul|Aug|Sept?|Okt|Oct|Nov|Dez|Dec)\.?\s+\d{4}|(?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December)\s+\d{1,2},?\s+\d{4})", re.I)
IBAN = re.compile(r"(?<![A-Z0-9])([A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]{4}){2,7}(?:[ \u00a0]?[A-Z0-9]{1,4})?)(?![A-Z0-9])")
VAT = re.compile(r"(?<![A-Z0-9])((?:AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI"
                 r"|SK|XI)"
                 r"[ \u00a0]?(?:U[ \u00a0]?)?[0-9A-Z](?:[ \u00a0]?[0-9A-Z+*]){6,12})(?![A-Z0-9])")
CURRENCIES = ("EUR", "USD", "CHF", "GBP", "PLN", "CZK", "DKK", "SEK", "NOK", "HUF", "JPY")
SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP"}

# Labels. Each is matched against one segment's text, case-insensitively, at a word start.
NUMBER_LABELS = [
    (r"rechnungs?[-\s]?(?:nummer|nr\.?|no\.?|#)", "number_label"),
    (r"rechnung\s+(?:nr\.?|nummer|no\.?)", "number_label"),
    (r"(?:rg|re|rech)\.?[-\s]?nr\.?", "number_label"),
    ((r"(?:gutschrift|korrektur|storno|beleg|dokument|abrechnungs|abschlagsrechnungs)[-\s]?(?:s[-\s]?)?"
     r"(?:nummer|nr\.?)"), "number_label"),
    (r"invoice\s*(?:no\.?|number|nr\.?|#|id|ref(?:erence)?)", "number_label"),
    (r"bill\s*(?:no\.?|number|#)|document\s*(?:no\.?|number|#)", "number_label"),
    (r"r(?:é|e)f(?:\.|(?:é|e)rence)?\s*(?:de\s+(?:la\s+)?)?(?:facture|l'avoir)", "number_label"),
    (r"(?:credit|refund)\s+(?:note|memo)\s*(?:no\.?|number|#)", "number_label"),
    (r"(?:facture|avoir)\s*(?:n\s?°|no\.?|num(?:é|e)ro|#)", "number_label"),
    (r"(?:n\s?°|num(?:é|e)ro)\s*(?:de\s+)?(?:la\s+)?(?:facture|l'avoir|d'avoir|avoir)", "number_label"),
    (r"beleg|pi(?:è|e)ce\s*(?:n\s?°|no\.?)", "number_label"),
    (r"r(?:é|e)f(?:é|e)rence(?!\s*(?:client|commande|customer|order))", "number_weak"),
    (r"(?:nr|no)\.", "number_weak"),
    (r"nummer", "number_weak"),
    (r"num(?:é|e)ro|number", "number_weak"),
]
DATE_LABELS = [
    ((r"rechnungs[-\s]?datum|invoice\s+date|date\s+of\s+(?:issue|invoice)|ausstellungsdatum|belegdatum|"
      r"gutschriftsdatum|datum\s+der\s+rechnung|issue\s+date|date\s+de\s+(?:la\s+)?facture|date\s+d'(?:é|e)mission|"
      r"(?:é|e)mise?\s+le|date\s+de\s+l'avoir|rechnungstag|ausgestellt\s+am|issued\s+on|fait\s+le|"
      r"date\s+issued|invoice\s+dated|datum\s+der\s+ausstellung"), "date_label"),
    (r"datum|date|vom|dated|du", "date_weak"),
]
NOT_ISSUE_DATE = re.compile(
    r"liefer|leistung|fällig|faellig|zahlbar|due|bestell|auftrag|order|delivery|service|periode|zeitraum|"
    r"abrechnungszeitraum|skonto|zahlungsziel|payable\s+by|pay\s+by|geburt|mandat|valuta|versand|druck|(?:é|e)ch(?:é|e)ance|livraison|commande|"
    r"prestation|paiement|payment", re.I)

NET_LABELS = [
    r"(?:rechnungs|gesamt|zwischen)?(?:summe|betrag)\s+(?:ohne|exkl\.?|excl\.?|zzgl\.?|vor)\s*(?:ust|mwst|umsatzsteuer|steuer|mehrwertsteuer)",
    r"netto[-\s]?(?:betrag|summe|gesamt|rechnungsbetrag|wert)?", r"(?:summe|gesamt|gesamtbetrag)\s+netto",
    r"nettobetrag", r"net\s+(?:total|amount)", r"(?:sub)?total\s+(?:net|excl\.?|excluding|before)", r"subtotal",
    r"zwischensumme", r"total\s+netto",
    r"(?:sous[-\s]?)?total\s+(?:ht|h\.t\.|hors\s+taxes?)", r"montant\s+(?:ht|h\.t\.|hors\s+taxes?)",
    r"total\s+(?:excl\.?|excluding)\s+(?:vat|tax)", r"sub[-\s]total", r"total\s+net\s+(?:ht|h\.t\.)",
    r"(?:base|net|montant\s+net)\s+(?:ht|h\.t\.|hors\s+taxes?)", r"total\s+hors\s+tva",
    r"(?:amount|total|sum)\s+(?:before|excl\.?|excluding|without|net\s+of)\s+(?:vat|tax(?:es)?)",
    r"(?:net\s+)?(?:goods|line)\s+total|warenwert(?:\s+netto)?", r"nettowert|leistungswert\s+netto",
]
TAX_LABELS = [
    # "(?:summe|…)?\s*ust": spaces before the word are taken from where their run begins (or after the one
    # space that follows a word, where the label's own look-behind lets a match begin), not from each space.
    (r"(?:(?:summe|gesamt|gesamtbetrag)\s*+|(?<!\s)\s*+|(?<=\w\s)\s*+)(?:ust|mwst|umsatzsteuer|mehrwertsteuer|vat|tax|tva)"
     r"[-\s]?(?:betrag|summe|gesamt|amount|total)?"),
    r"(?:total|montant)\s+(?:de\s+la\s+)?tva", r"total\s+(?:vat|tax)(?!\s*(?:incl|excl|included|excluded))",
    r"(?:zzgl\.?|plus|inkl\.?|enthaltene?)\s*(?:\d+(?:[.,]\d+)?\s*%\s*)?(?:ust|mwst|umsatzsteuer|mehrwertsteuer|vat)",
    r"\d+(?:[.,]\d+)?\s*%\s*(?:ust|mwst|umsatzsteuer|mehrwertsteuer|vat|tax|tva)", r"steuerbetrag", r"steuer",
]
GROSS_LABELS = [
    r"brutto[-\s]?(?:betrag|summe|gesamt|rechnungsbetrag)?", r"(?:summe|gesamt|gesamtbetrag)\s+brutto",
    r"gesamt[-\s]?(?:betrag|summe)", r"rechnungs[-\s]?(?:betrag|summe|gesamtbetrag)", r"endbetrag", r"endsumme",
    r"gesamt\s*(?:inkl\.?|incl\.?)", r"(?:invoice|grand)\s+total", r"gutschrifts?(?:betrag|summe)",
    r"erstattungsbetrag", r"total\s+(?:amount|incl\.?|including|gross)",
    r"(?:total|montant)\s+(?:ttc|t\.t\.c\.|toutes\s+taxes\s+comprises)", r"total\s+(?:de\s+la\s+)?facture",
    r"montant\s+total\s+(?:ttc|t\.t\.c\.)", r"(?:net|total|montant)\s+(?:(?:à|a)\s+payer\s+)?(?:ttc|t\.t\.c\.)",
    r"ttc", r"invoice\s+(?:amount|value)", r"total\s+(?:payable|invoice\s+value|including\s+(?:vat|tax))",
    r"gesamt[-\s]?summe|gesamt(?:betrag)?\s+(?:inkl\.?|einschl\.?)",
    r"total", r"gesamt", r"summe",
]
DUE_LABELS = [
    r"zahlbetrag", r"zu\s+zahlen(?:der\s+betrag)?", r"(?:noch\s+)?offener?\s+(?:betrag|rechnungsbetrag)",
    r"fällige?r?\s+betrag", r"(?:amount|balance|total)\s+due", r"restbetrag", r"auszahlungsbetrag",
    r"zu\s+überweisen(?:der\s+betrag)?", r"amount\s+payable", r"zahlungsbetrag",
    r"(?:net|reste|montant|solde|total)\s+(?:à|a)\s+payer", r"solde\s+d(?:û|u)", r"montant\s+d(?:û|u)",
    r"zu\s+zahlender\s+betrag", r"balance\s+outstanding|outstanding\s+balance",
    r"(?:noch|bitte)\s+zu\s+(?:zahlen|überweisen)", r"ausstehende[rn]?\s+(?:betrag|summe)", r"restsumme|restzahlung",
    r"verbleibende[rn]?\s+betrag", r"offene\s+summe", r"reste\s+d(?:û|u)",
    r"(?:somme|montant|reste)\s+(?:à|a)\s+r(?:é|e)gler",
    r"amount\s+(?:owing|owed|to\s+pay|outstanding)", r"balance(?:\s+payable)?",
    r"(?:total\s+)?(?:to\s+pay|payable\s+now|now\s+due)",
]
# Payments already made (deposits, instalments): amount due = gross total − these.
PREPAID_LABELS = [
    (r"(?:abzgl\.?\s+|abzüglich\s+)?(?:erhaltene\s+|geleistete\s+)?"
     r"(?:anzahlung|abschlag|abschlagszahlung|vorauszahlung|akonto)(?:en)?(?:\s+(?:erhalten|geleistet|bezahlt|gezahlt))?"),
    r"bereits\s+(?:gezahlt|bezahlt|geleistet|erhalten)", r"(?:geleistete|erhaltene)\s+zahlungen?",
    r"(?:less\s+)?(?:deposit|advance|prepayment|down\s+payment|payments?)(?:\s+(?:paid|received|made))?",
    r"(?:amount\s+)?(?:already\s+)?(?:paid|prepaid)(?:\s+to\s+date)?",
    r"acomptes?(?:\s+(?:vers(?:é|e)s?|re(?:ç|c)us?|d(?:é|e)duits?|factur(?:é|e)s?))?",
    r"d(?:é|e)j(?:à|a)\s+(?:r(?:é|e)gl(?:é|e)|pay(?:é|e)|vers(?:é|e))", r"avances?\s+(?:re(?:ç|c)ues?|vers(?:é|e)es?)",
]
NOT_TOTAL = re.compile(r"satz\b|sätze|rate\b|preis|price|einzel|pos\.|position|menge|qty|anzahlung|nummer|nr\.|"
                       r"quantit|p\.u\.|unit\b", re.I)

SELLER_SECTION = re.compile(
    r"^(verkäufer|lieferant|rechnungssteller|leistungserbringer|auftragnehmer|absender|seller|supplier|vendor|"
    r"rechnungsaussteller|from|von|vendeur|fournisseur|(?:é|e)metteur|prestataire|anbieter|dienstleister|"
    r"leistender(?:\s+unternehmer)?|unternehmer|(?:service\s+)?provider|issued\s+by|sold\s+by|billed\s+by|"
    r"invoice\s+from|merchant|contractor|soci(?:é|e)t(?:é|e)|(?:é|e)mis\s+par|factur(?:é|e)\s+par|"
    r"rechnung\s+von)(?:\s+name)?(?!\w)", re.I)
BUYER_SECTION = re.compile(
    r"^(käufer|kunde|rechnungsempfänger|leistungsempfänger|auftraggeber|empfänger|buyer|customer|"
    r"bill(?:ed)?[-\s]to(?:\s+party)?|invoice[-\s]to|invoiced\s+to|sold[-\s]to|recipient|rechnungsadresse|"
    r"rechnungsanschrift|rechnung\s+an|besteller|acheteur|client|destinataire|factur(?:é|e|er)\s+(?:à|a)|"
    r"factur(?:é|e)\s+au\s+nom\s+de|adress(?:é|e)e?\s+(?:à|a)|adresse\s+de\s+facturation|"
    r"rechnung\s+für|invoice\s+for|donneur\s+d'ordre|client\s+final|deliver\s*&\s*invoice\s+to)"
    r"(?:\s+name)?(?!\w)", re.I)
OTHER_SECTION = re.compile(
    r"^(abweichender|lieferanschrift|lieferadresse|warenempfänger|ship(?:ped)?\s+to|deliver(?:y|ed)\s+to|"
    r"zahlungsempfänger|steuerlicher\s+vertreter|bemerkung|positionsdaten|zahlungsbedingungen|"
    r"adresse\s+de\s+livraison|livr(?:é|e)\s+(?:à|a))", re.I)
# Separators between the parts of an address line or letterhead ("Muster GmbH · Hauptstr. 1 | 12345 Ort").
_HEAD_SEPARATOR = re.compile(r"(?:(?<!\s)\s++)?[,;·|]\s*+")
_LETTERHEAD_SEPARATOR = re.compile(r"(?:(?<!\s)\s++)?[·•|,–]\s*+|(?<!\s)\s++-\s++")
_NAME_SEPARATOR = re.compile(r"(?:(?<!\s)\s++)?[·•|,]\s*+|(?<!\s)\s++-\s++")
NAME_LABEL = re.compile(r"^(name|firma|company|firmenname|unternehmen)\s*:?", re.I)
SALUTATION = re.compile(r"^(herrn?|frau|firma|familie|an|z\.\s?hd\.?.*)$", re.I)
# A department or contact line above the party's name in an address ("Buchhaltung", "Accounts Payable").
DEPARTMENT = re.compile(
    r"^(?:(?:kreditoren|finanz)?buchhaltung|rechnungseingang|rechnungsprüfung|einkauf|abteilung\b.*|"
    r"accounts?\s+(?:payable|department)|purchase\s+ledger|finance\s+department|accounting|purchasing|"
    r"attn\.?\b.*|c/o\b.*|(?:service\s+)?comptabilit(?:é|e)(?:\s+fournisseurs)?|service\s+(?:achats|financier)|"
    r"(?:à\s+l'attention\s+de)\b.*|anschrift|adresse|address)$", re.I)

TYPE_WORDS = [
    (re.compile(r"rechnungskorrektur|korrekturrechnung|berichtigte\s+rechnung|corrected\s+invoice|"
                r"korrigierte\s+rechnung|facture\s+(?:rectificative|corrective|modificative)|"
                r"korrektur\s+(?:zur|der)\s+rechnung|rechnungsberichtigung|(?:revised|amended|correcting)\s+invoice|"
                r"invoice\s+correction|correction\s+invoice", re.I), "correction"),
    (re.compile(r"gutschrift.{0,200}(?:selbst\s+ausgestellt|gutschriftsverfahren|self[-\s]?bill)|"
                r"selbst\s+ausgestellte\s+rechnung|self[-\s]?billed?\s+invoice", re.I), "self_billed"),
    (re.compile(r"gutschrift|(?:credit|refund)\s+(?:note|memo)|credit\s+invoice|stornorechnung|storno|"
                r"(?<!\w)avoir(?!\w)|facture\s+d'avoir|note\s+de\s+cr(?:é|e)dit",
                re.I),
     "credit_note"),
    (re.compile(r"teilrechnung|abschlagsrechnung|anzahlungsrechnung|partial\s+invoice|"
                r"vorauszahlungsrechnung|vorschussrechnung|akontorechnung|progress\s+invoice|facture\s+d'acompte|"
                r"(?:deposit|advance|interim|instal?lment|down[-\s]payment|prepayment|stage)\s+invoice|"
                r"facture\s+(?:interm(?:é|e)diaire|de\s+situation|partielle)", re.I), "partial"),
    (re.compile(r"rechnung|invoice|faktura|facture", re.I), "invoice"),
]
INVOICE_WORDS = re.compile(r"rechnung|invoice|gutschrift|(?:credit|refund)\s+(?:note|memo)|faktura|abrechnung|"
                           r"beitrag|quittung|"
                           r"receipt|"
                           r"facture|(?<!\w)avoir(?!\w)",
                           re.I)
NO_VAT = re.compile(r"§\s?19\s?(?:abs\.?\s?1\s?)?ustg|keine\s+(?:umsatzsteuer|mehrwertsteuer|mwst)|"
                    r"ohne\s+(?:umsatzsteuer|mehrwertsteuer)|steuerfreie?\s+(?:leistung|lieferung)|"
                    r"kleinunternehmer|umsatzsteuerbefreit|not\s+subject\s+to\s+vat|vat\s+exempt|tva\s+non\s+applicable|"
                    r"293\s?b\s+du\s+cgi", re.I)
PAYER_CONTEXT = re.compile(r"(?<!ver)käufer|ihr(?:em|es)?\s+konto|ihre\s+iban|kunden[-\s]?iban|lastschrift|abgebucht|"
                           r"eingezogen|debit|mandat|belastet|(?<![àa]\s)payer(?!\w)|zahlungspflichtig|"
                           r"pr(?:é|e)l(?:è|e)vement", re.I)


@dataclass
class Candidate:
    value: str
    kind: str
    explanation: str
    order: int = 0  # reading position, for "the first" rules

    @property
    def confidence(self) -> float:
        return CONF[self.kind]


@dataclass
class TextExtraction:
    found: dict[str, f.Found] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    looks_like_invoice: bool = False


def _cue(row: Row, text: str | None = None) -> str:
    shown = text if text is not None else row.text
    shown = shown if len(shown) <= 90 else shown[:87] + "..."
    return _("Text on page %(page)s: “%(text)s”") % {"page": row.page + 1, "text": shown}


def _cue_text(text: str) -> str:
    return _("Text: “%(text)s”") % {"text": text}


def _label_re(pattern: str) -> re.Pattern:
    return re.compile(rf"(?<![\w]){pattern}(?![\w])\s*[:#.]?\s*", re.I)


class Document:
    """The text layer as rows, with the lookups the field finders share."""

    def __init__(self, layer: TextLayer):
        self.rows = [r for r in layer.rows if r.segments]
        self.layer = layer
        self.text = "\n".join(r.text for r in self.rows)
        sizes = sorted(s.size for r in self.rows for s in r.segments)
        self.body_size = sizes[len(sizes) // 2] if sizes else 10.0
        self.blocks: list[Block] | None = None  # headed blocks, found once (_blocks)
        self.names: dict | None = None  # the parties' names, found once (_names)
        self._window_top: float | None = None

    def window_top(self) -> float:
        """Where the address field may begin on the first page: 27 mm from the top edge (DIN 5008), or right
        under a letterhead in large type that a producer without a top margin sets higher."""
        if self._window_top is None:
            top = 0.08 * self.page_height(0)
            for row in self.rows:
                if row.page != 0 or row.top >= top:
                    break
                if max(s.size for s in row.segments) >= 1.25 * self.body_size:
                    top = min(top, row.bottom)
                    break
            self._window_top = top
        return self._window_top

    def page_height(self, page: int) -> float:
        heights = self.layer.page_heights
        return heights[page] if page < len(heights) else 842.0

    def right_of(self, row: Row, seg: Segment) -> list[Segment]:
        return [s for s in row.segments if s.x0 >= seg.x1 - 1]

    def below(self, index: int, seg: Segment, *, max_rows: int = 2) -> list[tuple[Row, Segment]]:
        """Segments in the next rows of the same page that overlap `seg` horizontally (a column's values)."""
        row = self.rows[index]
        out = []
        for nxt in self.rows[index + 1:index + 1 + max_rows]:
            if nxt.page != row.page or nxt.top - row.bottom > 3 * max(self.body_size, 8):
                break
            for s in nxt.segments:
                if s.x0 < seg.x1 + 2 and s.x1 > seg.x0 - 2:
                    out.append((nxt, s))
        return out


def _caption_label(doc: Document, index: int, seg: Segment) -> str:
    """A label's text; a caption in small type broken over two lines ("INVOICE" / "REFERENCE") with its
    second line."""
    if seg.size > 0.85 * doc.body_size or re.search(r"\d", seg.text):
        return seg.text
    for nxt, s in doc.below(index, seg, max_rows=1):
        if abs(s.x0 - seg.x0) < 4 and abs(s.size - seg.size) < 0.3 and not re.search(r"\d", s.text) \
                and nxt.top - doc.rows[index].bottom < 0.8 * seg.size:
            return f"{seg.text} {s.text}"
    return seg.text


def _wrapped_value(doc: Document, row: Row, seg: Segment) -> str | None:
    """A value in a narrow box broken over two lines ("17. August" / "2025"): both lines, or None."""
    index = doc.rows.index(row)
    for nxt, s in doc.below(index, seg, max_rows=1):
        if abs(s.x0 - seg.x0) < 4 and nxt.top - row.bottom < 0.8 * seg.size and len(s.text) < 20:
            return f"{seg.text} {s.text}"
    return None


def _values_after_label(doc: Document, index: int, seg: Segment, match: re.Match, *, below: bool = True,
                        label: str | None = None):
    """Texts where a label's value may stand: the rest of its segment, the segments to its right, below."""
    row = doc.rows[index]
    rest = (label if label is not None else seg.text)[match.end():].strip()
    if rest:
        yield row, rest, "same"
    # A caption in small type over its value (a card, a box, a header cell): the value below comes first;
    # to its right on the same row stand the neighbouring boxes' values.
    caption = below and seg.size <= 0.85 * doc.body_size and not rest
    if caption:
        for nxt, s in doc.below(index, seg, max_rows=3):
            if s.x0 < seg.x0 + 0.6 * max(seg.x1 - seg.x0, 20) and s.size > seg.size + 0.3:
                if (joined := _wrapped_value(doc, nxt, s)) is not None:
                    yield nxt, joined, "below"
                yield nxt, s.text, "below"
    for s in doc.right_of(row, seg):
        if s is not seg:
            yield row, s.text, "right"
    if below and not caption:
        for nxt, s in doc.below(index, seg):
            yield nxt, s.text, "below"


def extract_text_fields(layer: TextLayer, *, ocr: bool = False) -> TextExtraction:
    """The fields of one invoice's text; `ocr` when (some of) the text was read by OCR, whose evidence is
    right less often (misread characters, no font sizes for letterheads). Each value's confidence is the
    fitted calibration's figure for its kind of evidence and field (invoice/calibration.py), the hand-set
    CONF (CONF_OCR for OCR) where the calibration has none."""
    doc = Document(layer)
    out = TextExtraction()
    out.looks_like_invoice = bool(INVOICE_WORDS.search(doc.text))
    finders = (_document_type, _invoice_number, _issue_date, _vat_id, _iban, _currency, _totals, _names)
    cands: dict[str, Candidate] = {}
    for finder in finders:
        for name, cand in finder(doc).items():
            if cand is not None and cand.value not in (None, ""):
                cands[name] = cand
    cues = document_cues(doc, cands)
    for name, cand in cands.items():
        prior = min(cand.confidence, CONF_OCR.get(cand.kind, cand.confidence)) if ocr else cand.confidence
        base = calibrated(cand.kind, name, ocr=ocr, prior=prior)
        confidence = with_cues(name, base, cues[name], ocr=ocr)
        out.found[name] = f.Found(cand.value, cand.explanation, confidence, cand.kind, cues[name])
    return out


# --- cues beyond each value's own evidence -----------------------------------------------------------

_SQUEEZE = re.compile(r"[\W_]+")


def _squeezed(text: str) -> str:
    """Letters and digits only, case-folded: a name found in other text whatever its spacing (a producer's
    kerning may split a word) and punctuation."""
    return _SQUEEZE.sub("", text.casefold())


def _amount_of(cands: dict, name: str) -> Decimal | None:
    cand = cands.get(name)
    return parse_decimal(cand.value) if cand is not None else None


def document_cues(doc: Document, cands: dict) -> dict[str, dict[str, float]]:
    """What the page says about each value beyond the evidence that found it, in terms no producer or
    layout decides: do the totals add up (net + tax = gross; the amount due follows from the gross total
    and what was paid), was a name found by a label or only by its place, is the same name printed
    elsewhere on the document (sender line, footer, bank block, VAT id line), does it carry a legal form,
    are buyer and seller different, do the VAT id's and the IBAN's check digits hold and their countries
    agree. The confidence model (calibration.with_cues) weighs them as fitted on the development sets."""
    net, tax, gross = (_amount_of(cands, k) for k in ("net_total", "tax_total", "gross_total"))
    sums = None
    derived = any(cands[k].kind == "amount_derived" for k in ("net_total", "tax_total", "gross_total") if k in cands)
    if net is not None and tax is not None and gross is not None and not derived:
        # Three printed totals: whether they add up says how well the totals block was read. A total
        # derived from the other two adds up by construction and says nothing.
        sums = abs(net + tax - gross) <= CENT
    due_kind = cands["amount_due"].kind if "amount_due" in cands else None
    due_checked = due_kind in ("due_consistent", "due_from_gross", "due_from_prepaid")
    rows = [_squeezed(r.text) for r in doc.rows]
    vat = cands.get("seller_vat_id")
    iban = cands.get("iban")
    countries = (vat.value[:2].upper() if vat else "", iban.value[:2].upper() if iban else "")
    same_country = float(bool(all(countries)) and countries[0].replace("EL", "GR") == countries[1])
    doc_sums = 1.0 if sums else (-1.0 if sums is False else 0.0)
    out: dict[str, dict[str, float]] = {}
    for name, cand in cands.items():
        cue: dict[str, float] = {"doc_sums": doc_sums}
        if name in f.AMOUNT_FIELDS:
            cue["sums_ok"] = float(sums is True and name != "amount_due")
            cue["sums_bad"] = float(sums is False and name != "amount_due")
            if name == "amount_due":
                cue["due_checked"] = float(due_checked)
        if name in ("seller_name", "buyer_name"):
            key = _squeezed(cand.value)
            seen = sum(key in row for row in rows) if len(key) >= 4 else 0
            other = cands.get("buyer_name" if name == "seller_name" else "seller_name")
            cue["layout"] = float(cand.kind in ("name_layout", "name_agree", "master_data"))
            cue["seen_elsewhere"] = float(seen >= 2)
            cue["legal_form"] = float(bool(LEGAL_FORM.search(cand.value)))
            cue["same_as_other"] = float(other is not None and _squeezed(other.value) == key)
            cue["two_names"] = float(_holds_two_names(cand.value, other.value if other is not None else None))
        if name == "seller_vat_id":
            cue["check_digits"] = float(vat_id_valid(cand.value))
            cue["same_country"] = same_country
        if name == "iban":
            cue["check_digits"] = float(iban_valid(cand.value))
            cue["same_country"] = same_country
        out[name] = cue
    return out


# After a legal form, what may still belong to the same name: "& Co. KG", "mbH", "(haftungsbeschränkt)".
# Possessive throughout: "Co." read as "Co" and "." would double the ways to fail on each repetition.
_NAME_TAIL = re.compile(r"^(?:\s*+(?:&\s*+Co\.?+(?:\s*+KG(?:aA)?+)?+|mbH|KG|\(haftungsbeschränkt\)|[.,]))*+\s*+$", re.I)


def _holds_two_names(name: str, other: str | None) -> bool:
    """Whether a name looks like two names run together (a producer that sets two table cells of one row
    as one text run): words after its legal form, a department line's word in it, or the other party's
    name inside it."""
    m = LEGAL_FORM.search(name)
    if m and not _NAME_TAIL.match(name[m.end():]) and re.search(r"[^\W\d_]{3,}", name[m.end():]):
        return True
    words = name.split()
    if len(words) > 1 and any(DEPARTMENT.match(w) for w in words[1:]):
        return True
    if other:
        mine, theirs = _squeezed(name), _squeezed(other)
        return len(theirs) >= 4 and theirs != mine and theirs in mine
    return False


# --- document type ----------------------------------------------------------------------------------

def _title_rows(doc: Document):
    """Rows in the top half of the first page, largest text first: where a document names itself."""
    first = [(i, r) for i, r in enumerate(doc.rows) if r.page == 0 and r.top < doc.page_height(0) * 0.5]
    return sorted(first, key=lambda ir: (-max(s.size for s in ir[1].segments), ir[0]))


def _document_type(doc: Document) -> dict:
    for _i, row in _title_rows(doc):
        for seg in row.segments:
            code = re.search(r"\((\d{3})\)\s*$", seg.text)
            if code and re.search(r"rechnung|gutschrift|invoice|credit|korrektur|abrechnung|facture|avoir", seg.text,
                                  re.I):
                return {"document_type": Candidate(f.document_type(code[1]), "code_in_title", _cue(row, seg.text))}
    for _i, row in _title_rows(doc)[:12]:
        for seg in sorted(row.segments, key=lambda s: -s.size):
            if len(seg.text) > 60 or _section_kind(seg.text)[0]:
                continue
            for pattern, kind in TYPE_WORDS:
                if pattern.search(seg.text):
                    return {"document_type": Candidate(kind, "type_keyword", _cue(row, seg.text))}
    for pattern, kind in TYPE_WORDS:
        if m := pattern.search(doc.text):
            line = next(r for r in doc.rows if pattern.search(r.text))
            return {"document_type": Candidate(kind, "type_default", _cue(line, m.group()))}
    return {}


# --- invoice number ---------------------------------------------------------------------------------

_NUMBER_VALUE = re.compile(r"^[#:]?\s*([A-Za-z0-9][A-Za-z0-9\-/._]*[A-Za-z0-9]|\d)")
_NUMBER_LABEL_RES = [(_label_re(p), kind) for p, kind in NUMBER_LABELS]


_PREFIXED_NUMBER = re.compile(r"^[#:]?\s*([A-Z]{1,4} \d{3,})(?![\w\-/.])")


def _number_value(text: str) -> str | None:
    m = _PREFIXED_NUMBER.match(text.strip()) or _NUMBER_VALUE.match(text.strip())
    if not m:
        return None
    value = m.group(1)
    if not re.search(r"\d", value) or DATE.fullmatch(value) or len(value) > 40:
        return None
    if re.fullmatch(r"\d{1,2}", value):  # page numbers, positions
        return None
    return value


def _invoice_number(doc: Document) -> dict:
    best: Candidate | None = None
    for i, row in enumerate(doc.rows):
        for seg in row.segments:
            label = _caption_label(doc, i, seg)
            for regex, kind in _NUMBER_LABEL_RES:
                m = regex.search(label)
                if not m:
                    continue
                if kind == "number_weak" and not _is_title_row(doc, i) and m.start() > 0:
                    continue
                if kind == "number_weak" and re.search(r"kunden|steuer|bestell|auftrag|lieferschein|kd|ust|tel|fax|"
                                                       r"hrb|seite|page|konto|artikel|art-|ref|mandat|vertrag|"
                                                       r"order|customer|account|globale|tva|vat|siret|siren|"
                                                       r"client|commande|telefon|phone",
                                                       label[:m.end() + 10], re.I):
                    continue
                for vrow, text, where in _values_after_label(doc, i, seg, m, label=label):
                    value = _number_value(text)
                    if value:
                        # "Nr. 4711" next to the document's title names the invoice as surely as a full label.
                        strong = kind == "number_label" or _is_title_row(doc, i)
                        cand = Candidate(value, "number_label" if strong and where != "below" else "number_weak",
                                         _cue(row if where != "below" else vrow,
                                              seg.text if where == "same" else f"{seg.text} {text}"),
                                         order=i)
                        rank = (cand.confidence, -i)
                        if best is None or rank > (best.confidence, -best.order):
                            best = cand
                        break
                break
    if best is None:
        # "Rechnung RE-1001" as the title, without a number label.
        for i, row in enumerate(doc.rows):
            if not _is_title_row(doc, i):
                continue
            for seg in row.segments:
                m = _TITLE_NUMBER.match(seg.text)
                value = _number_value(m.group(1)) if m else None
                if value:
                    return {"invoice_number": Candidate(value, "number_weak", _cue(row, seg.text), order=i)}
    return {"invoice_number": best} if best else {}


_TITLE_NUMBER = re.compile(r"^\s*+(?:[\w-]*rechnung|invoice|gutschrift|(?:credit|refund)\s+note|facture|avoir)\s++"
                           r"(?:nr\.?|no\.?|n\s?°|#)?\s*+(\S+)",
                           re.I)
_TITLE_KEYWORD = re.compile(r"rechnung|gutschrift|invoice|credit note|refund note|korrektur|facture|(?<!\w)avoir(?!\w)",
                            re.I)


def _is_title_row(doc: Document, index: int) -> bool:
    """A row on the first page that names the document: a title word in large or bold type, or leading
    a short segment."""
    row = doc.rows[index]
    if row.page != 0:
        return False
    for seg in row.segments:
        m = _TITLE_KEYWORD.search(seg.text)
        if m and (seg.size >= 1.15 * doc.body_size or seg.bold or (m.start() < 25 and len(seg.text) < 60)):
            return True
    return False


# --- issue date -------------------------------------------------------------------------------------

_DATE_LABEL_RES = [(_label_re(p), kind) for p, kind in DATE_LABELS]


def _issue_date(doc: Document) -> dict:
    best: Candidate | None = None
    for i, row in enumerate(doc.rows):
        for seg in row.segments:
            label = _caption_label(doc, i, seg)
            for regex, kind in _DATE_LABEL_RES:
                m = regex.search(label)
                if not m or NOT_ISSUE_DATE.search(label[:m.end()]):
                    continue
                if kind == "date_weak" and m.group().strip().lower().startswith("vom") and not _is_title_row(doc, i):
                    continue
                for _vrow, text, where in _values_after_label(doc, i, seg, m, label=label):
                    d = DATE.search(text)
                    date = parse_date(d.group()) if d and d.start() <= 2 else None
                    if date:
                        k = kind if where != "below" else "date_weak"
                        cand = Candidate(date.isoformat(), k,
                                         _cue(row, f"{seg.text} {text}" if where != "same" else seg.text), order=i)
                        if best is None or (cand.confidence, -i) > (best.confidence, -best.order):
                            best = cand
                        break
                break
    if best:
        return {"issue_date": best}
    for row in doc.rows:
        if row.page > 0:
            break
        for seg in row.segments:
            d = DATE.search(seg.text)
            if d and not NOT_ISSUE_DATE.search(row.text) and (date := parse_date(d.group())):
                return {"issue_date": Candidate(date.isoformat(), "date_first", _cue(row, seg.text))}
    return {}


# --- sections: seller and buyer blocks --------------------------------------------------------------

@dataclass
class Block:
    """A labelled block ("Verkäufer", "Rechnungsempfänger", ...): its heading and the column below it."""

    kind: str  # "seller", "buyer" or "other"
    header_row: int
    header: Segment
    rest: str  # text after the heading in its own segment ("Lieferant: Foo GmbH")
    x_from: float
    x_to: float
    rows: list[int] = field(default_factory=list)

    def holds(self, index: int, seg: Segment) -> bool:
        return index in self.rows and self.x_from <= seg.x0 < self.x_to


def _section_kind(text: str):
    """("seller"|"buyer"|"other", value after a colon) when the text is a block heading, else (None, None).

    A heading is the keyword alone, with a qualifier ("Käufer/Leistungsempfänger", "Lieferant (Absender)")
    or with its value after a colon ("Lieferant: Foo GmbH"); "Lieferant GmbH" is a name, not a heading."""
    text = text.strip()
    if len(text.split(":")[0]) > 45:
        return None, None
    for kind, regex in (("seller", SELLER_SECTION), ("buyer", BUYER_SECTION), ("other", OTHER_SECTION)):
        m = regex.match(text)
        if not m:
            continue
        tail = text[m.end():].strip()
        if kind == "other":
            return kind, ""
        if not tail or re.fullmatch(r"[/(&,].*|und\s.*|and\s.*", tail):
            return kind, ""
        if tail.startswith(":"):
            rest = tail[1:].strip()
            if re.match(r"[\W\d]", rest) or re.fullmatch(r"[A-Z]{0,3}[-\s]?\d[\w\-/]*", rest):
                return None, None  # "Kunde: 10023" is a reference, not a heading
            return kind, rest
        return None, None
    return None, None


def _blocks(doc: Document) -> list[Block]:
    """Headed blocks, column by column: two blocks side by side on one row each keep their own column."""
    if doc.blocks is not None:
        return doc.blocks
    blocks: list[Block] = []
    for i, row in enumerate(doc.rows):
        heads = [(seg, *_section_kind(seg.text)) for seg in row.segments]
        heads = [(seg, kind, rest) for seg, kind, rest in heads if kind]
        for n, (seg, kind, rest) in enumerate(heads):
            # A block's column ends where the next heading's begins, and at most 40 % of the page to the right:
            # further right stands another column (the seller's details beside the buyer's address).
            x_to = min(heads[n + 1][0].x0 - 1 if n + 1 < len(heads) else 1e9, seg.x0 + 0.4 * 595)
            blocks.append(Block(kind, i, seg, rest, seg.x0 - 6, x_to))
    for block in blocks:
        # The block runs down its column while lines follow closely and start where its heading starts.
        last = doc.rows[block.header_row]
        limit = 2.2 * max(block.header.size, doc.body_size)
        for j in range(block.header_row + 1, min(len(doc.rows), block.header_row + 18)):
            row = doc.rows[j]
            inside = [s for s in row.segments if block.x_from <= s.x0 < block.x_to]
            if row.page != last.page:
                break
            if not inside:
                continue
            if row.top - last.bottom > limit or inside[0].x0 < block.header.x0 - 8:
                break
            if inside[0].x0 > block.header.x0 + 8 and (len(inside) > 1 or row.top - last.bottom > 1.6 * inside[0].size):
                break  # only a value column's continuation line may stand indented
            if any(_section_kind(s.text)[0] for s in inside):
                break
            block.rows.append(j)
            last = row
    doc.blocks = blocks
    return blocks


def _block_of(doc: Document, index: int, seg: Segment) -> str | None:
    for block in _blocks(doc):
        if block.holds(index, seg):
            return block.kind
    return None


# --- VAT id -----------------------------------------------------------------------------------------

_VAT_LABEL = re.compile(r"u\.?\s?st\.?[-\s]?id|n\s?°\s*tva|"
                        r"umsatzsteuer[-\s]?id|ust[-\s]?ident|vat\s*(?:id|reg|no|number)|"
                        r"tva|steuer[-\s]?id|uid", re.I)
_BUYER_VAT_CONTEXT = re.compile(r"ihre|kunden|käufer|buyer|customer|empfänger|client|acheteur", re.I)


def _vat_id(doc: Document) -> dict:
    cands: list[tuple[Candidate, str | None, bool]] = []
    for i, row in enumerate(doc.rows):
        for seg in row.segments:
            for m in VAT.finditer(seg.text):
                value = re.sub(r"[\s\u00a0]", "", m.group(1))
                if not vat_id_well_formed(value) or iban_valid(value):
                    continue
                section = _block_of(doc, i, seg)
                before = row.text[: row.text.find(m.group(1))]
                above = [s.text for _r, s in _column_above(doc, i, seg, 1)]
                labelled = bool(_VAT_LABEL.search(before[-40:])) or (
                    not before.strip() and bool(above) and bool(_VAT_LABEL.search(above[0][-40:])))
                owner = _address_owner(doc, i, seg)
                if section is None and owner:
                    section = owner  # the VAT id closes the address block of a party named elsewhere
                buyerish = section == "buyer" or bool(_BUYER_VAT_CONTEXT.search(before[-40:]))
                kind = "vat_label" if labelled else "vat_only"
                cands.append((Candidate(value, kind, _cue(row), order=i), section, buyerish))
    if not cands:
        return {}
    sellerish = [c for c, section, buyerish in cands if section == "seller"]
    if sellerish:
        return {"seller_vat_id": sellerish[0]}
    others = [c for c, section, buyerish in cands if not buyerish and section != "other"]
    distinct = {c.value for c in others}
    if len(distinct) == 1:
        return {"seller_vat_id": others[0]}
    if others:
        # Several VAT ids and no block says whose: the seller's usually stands in the letterhead or footer.
        pick = next((c for c in others if _in_margin(doc, c.order)), others[0])
        pick.kind = "vat_guess"
        return {"seller_vat_id": pick}
    return {}


def _column_above(doc: Document, index: int, seg: Segment, max_rows: int) -> list[tuple[Row, Segment]]:
    """Segments in the rows just above on the same page that start where `seg` starts (its column), nearest
    first, while the lines follow closely."""
    out: list[tuple[Row, Segment]] = []
    below = doc.rows[index]
    for j in range(index - 1, max(-1, index - 1 - 3 * max_rows), -1):
        row = doc.rows[j]
        if row.page != below.page or below.top - row.bottom > 1.2 * max(seg.size, 6):
            break
        col = [s for s in row.segments if abs(s.x0 - seg.x0) < 4]
        if not col:
            continue
        out.append((row, col[0]))
        below = row
        if len(out) == max_rows:
            break
    return out


def _address_owner(doc: Document, index: int, seg: Segment) -> str | None:
    """"seller" or "buyer" when the VAT id's line ends an address block (up to six close lines in its
    column) whose first line is the name found for that party."""
    names = _names(doc)
    block = _column_above(doc, index, seg, 6)
    if not block:
        return None
    first = {f.collapse(s.text).casefold() for _r, s in block}
    for kind in ("buyer", "seller"):
        name = names.get(f"{kind}_name")
        if name is not None and name.value.casefold() in first:
            return kind
    return None


def _in_margin(doc: Document, index: int) -> bool:
    row = doc.rows[index]
    height = doc.page_height(row.page)
    return row.top < 0.18 * height or row.top > 0.82 * height


# --- IBAN -------------------------------------------------------------------------------------------

def _iban(doc: Document) -> dict:
    cands = []
    for i, row in enumerate(doc.rows):
        # Joined with single spaces: justified text may split an IBAN's groups into separate segments. In a
        # narrow column an IBAN may wrap: its last groups stand on the next line, where its column starts.
        line = " ".join(s.text for s in row.segments)
        wrapped = _iban_continuation(doc, i)
        lines = [line]
        if wrapped:
            joined = f"{' '.join(s.text for s in row.segments[:wrapped[0] + 1])} {wrapped[1]}"
            if any(iban_valid(re.sub(r"[\s\u00a0]", "", m.group(1))) for m in IBAN.finditer(joined.upper())):
                lines = [joined]
        for line in lines:
            for m in IBAN.finditer(line.upper()):
                value = re.sub(r"[\s\u00a0]", "", m.group(1))
                if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", value) or vat_id_well_formed(value):
                    continue
                if not iban_well_formed(value):
                    continue  # no IBAN of any country: a reference followed by a word ("IN467682 Invoice")
                before = line[: m.start()]
                # Whose account: the words before it on its row, or the row above when the IBAN opens its row.
                context = before[-60:] + (" " + doc.rows[i - 1].text if i and len(before.strip()) < 15 else "")
                payer = bool(PAYER_CONTEXT.search(context))
                labelled = "IBAN" in row.text.upper() or "KONTO" in row.text.upper() or "ACCOUNT" in row.text.upper()
                kind = "iban_payer" if payer else ("iban_label" if labelled else "iban_only")
                cands.append(Candidate(value, kind, _cue(row), order=i))
    # The buyer's own account (direct debit) is not the payee's IBAN (BT-84): never suggested.
    best = next((c for c in cands if c.kind != "iban_payer"), None)
    if best is None:
        return {}
    if not iban_valid(best.value):
        best.kind = "iban_only"
    return {"iban": best}


def _iban_continuation(doc: Document, index: int) -> tuple[int, str] | None:
    """(the segment's position in its row, the text) of an IBAN's last groups wrapped onto the next line."""
    row = doc.rows[index]
    if index + 1 >= len(doc.rows) or doc.rows[index + 1].page != row.page:
        return None
    nxt = doc.rows[index + 1]
    for n, seg in enumerate(row.segments):
        if not re.search(r"[A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]{4}){2,}$", seg.text.upper()):
            continue
        for s in nxt.segments:
            if abs(s.x0 - seg.x0) < 4 and nxt.top - row.bottom < seg.size \
                    and re.fullmatch(r"[A-Z0-9]{1,4}(?:[ \u00a0][A-Z0-9]{1,4}){0,4}", s.text.strip().upper()):
                return n, s.text.strip()
    return None


# --- currency ---------------------------------------------------------------------------------------

def _currency(doc: Document) -> dict:
    for i, row in enumerate(doc.rows):
        for seg in row.segments:
            if re.match(r"(?:rechnungs)?währung|currency", seg.text, re.I):
                m = re.compile(r"(?:währung|currency)\s*:?", re.I).search(seg.text)
                if m is None:
                    continue
                for _r, text, _where in _values_after_label(doc, i, seg, m):
                    named = re.match(r"\s*([A-Z]{3})\b", text)
                    if named and named[1] in CURRENCIES:
                        return {"currency": Candidate(named[1], "currency_label", _cue(row))}
    counts: dict[str, int] = {}
    for code in CURRENCIES:
        counts[code] = len(re.findall(rf"(?<![A-Z]){code}(?![A-Z])", doc.text))
    for symbol, code in SYMBOLS.items():
        counts[code] = counts.get(code, 0) + doc.text.count(symbol)
    code, n = max(counts.items(), key=lambda kv: kv[1])
    if n:
        row = next(r for r in doc.rows if code in r.text or any(s in r.text for s, c in SYMBOLS.items() if c == code))
        return {"currency": Candidate(code, "currency_symbol", _cue(row))}
    if MONEY.search(doc.text):
        # German invoice without a currency mark: euro is the norm.
        return {"currency": Candidate("EUR", "currency_default", _("Text: amounts without a currency (euro assumed)"))}
    return {}


# --- totals -----------------------------------------------------------------------------------------

_NET_RES = [_label_re(p) for p in NET_LABELS]
_TAX_RES = [_label_re(p) for p in TAX_LABELS]
_GROSS_RES = [_label_re(p) for p in GROSS_LABELS]
_DUE_RES = [_label_re(p) for p in DUE_LABELS]
_PREPAID_RES = [_label_re(p) for p in PREPAID_LABELS]


def _amounts_in(text: str) -> list:
    out = []
    for m in MONEY.finditer(text):
        raw = m.group().replace("\u2212", "-")
        value = parse_decimal(raw.replace(" ", "") if raw.count(" ") == 1 and raw.strip().startswith("-") else raw)
        if value is not None:
            out.append(value)
    return out


_TAX_TOTAL_LABEL = re.compile(r"(?:total|montant)\s+(?:de\s+la\s+)?(?:vat|tax|tva)\b(?!.*\b(?:incl|excl))", re.I)


def _label_kind(text: str):
    """Which total a label names, by the most specific pattern; labels of rates and prices name none."""
    low = text.strip()
    if len(low) > 70:
        return None, None
    for rank, regex in enumerate(_PREPAID_RES):
        if (m := regex.match(low)) and not _DUE_RES[0].search(low):
            return "prepaid", (rank, m)
    if NOT_TOTAL.search(low.split(":")[0]):
        return None, None
    for kind, regexes in (("amount_due", _DUE_RES), ("net_total", _NET_RES), ("gross_total", _GROSS_RES),
                          ("tax_total", _TAX_RES)):
        for rank, regex in enumerate(regexes):
            m = regex.match(low) or (regex.search(low) if kind != "gross_total" else None)
            if m:
                if kind == "gross_total" and _TAX_TOTAL_LABEL.match(low):
                    break  # "Total VAT" is the tax's total, not the invoice's
                if kind == "gross_total" and re.search(r"netto|ohne|exkl|excl|zzgl|net\b", low, re.I):
                    return None, None
                if kind == "tax_total" and re.search(r"nummer|nr\.|id\b|satz\b|rate\b|frei\b|befreit", low, re.I):
                    return None, None
                return kind, (rank, m)
    return None, None


def _wrapped_label(doc: Document, index: int, seg: Segment) -> tuple[str, Row | None, Segment | None]:
    """A label and, when it is broken over two lines in its column ("SUMME OHNE" / "MWST."), its second
    line: the text without amounts directly below, starting where the label starts."""
    if _amounts_in(seg.text):
        return seg.text, None, None
    for nxt, s in doc.below(index, seg, max_rows=1):
        if abs(s.x0 - seg.x0) < 4 and not _amounts_in(s.text) and len(s.text) < 40 \
                and nxt.top - doc.rows[index].bottom < 0.8 * seg.size:
            return f"{seg.text} {s.text}", nxt, s
    return seg.text, None, None


def _column_value(doc: Document, index: int, seg: Segment, skip: Row | None):
    """The amount standing under a label that heads its own column (a card, a header cell): the first amount
    below it; none when more amounts follow in that column, which makes it a table's column head (the
    items' "Montant HT"), not a total."""
    found = None
    for nxt, s in doc.below(index, seg, max_rows=4):
        if nxt is skip:
            continue
        amounts = _amounts_in(s.text)
        if found is not None:
            if amounts and nxt is not found[0]:
                return None
            continue
        if amounts:
            if len(amounts) != 1 or len(s.text) > 25:
                return None
            found = (nxt, amounts[0])
        elif not re.fullmatch(r"[€$£]|EUR|GBP|USD|CHF", s.text.strip()):
            break
    return found


def _total_candidates(doc: Document) -> dict[str, list]:
    cands: dict[str, list] = {"net_total": [], "tax_total": [], "gross_total": [], "amount_due": [],
                              "prepaid": []}
    continued: set[int] = set()  # second lines of wrapped labels, read with their first
    for i, row in enumerate(doc.rows):
        # The items' column heads ("Menge", "Einzelpreis", "P.U. HT", ...) name no total, nor do their neighbours.
        heads_row = bool(NOT_TOTAL.search(row.text)) and len(row.segments) >= 3
        for seg in row.segments:
            if id(seg) in continued or (heads_row and not _amounts_in(row.text)):
                continue
            right = [a for s in doc.right_of(row, seg) if s is not seg for a in _amounts_in(s.text)]
            # A label with its amount beside it is complete; one without may go on in the line below.
            label, second, second_seg = (seg.text, None, None) if right else _wrapped_label(doc, i, seg)
            kind, hit = _label_kind(label)
            if not kind and second is not None:
                label, second = seg.text, None
                kind, hit = _label_kind(label)
            if not kind:
                continue
            if second is not None:
                continued.add(id(second_seg))
            rank, m = hit
            same_row = _amounts_in(label[m.end():]) + right
            if same_row:
                # The rightmost amount of a total's row is the total ("19 % USt auf 473,00  89,87").
                cands[kind].append((same_row[-1], rank, i, "right", row, seg))
                continue
            below = _column_value(doc, i, seg, second)
            if below is not None:
                cands[kind].append((below[1], rank + 3, i, "below", below[0], seg))
    return cands


def _totals(doc: Document) -> dict:
    cands = _total_candidates(doc)
    out: dict[str, Candidate] = {}

    def make(name, entry, kind):
        value, _rank, i, _where, row, _seg = entry
        return Candidate(decimal_string(value), kind, _cue(row, row.text), order=i)

    def prior(entry):
        _value, rank, i, where, _row, _seg = entry
        return -rank + (0.5 if where == "right" else 0) + i / 1000  # later totals win ties: sums end a page

    nets, taxes, grosses = cands["net_total"], cands["tax_total"], cands["gross_total"]
    tax_options = list(taxes)
    # Several rates each on their own line: their sum is the tax total.
    rate_rows: dict[tuple, tuple] = {}
    for entry in taxes:
        rate_rows.setdefault((entry[2], round(entry[5].x0)), entry)  # one per line, or per column of a row
    if len(rate_rows) > 1:
        rows_sorted = sorted(rate_rows.values(), key=lambda e: (e[2], e[5].x0))
        total = sum((e[0] for e in rows_sorted), start=Decimal(0))
        tax_options.append((total, 5, rows_sorted[-1][2], "sum", rows_sorted[-1][4], rows_sorted[-1][5]))
    best = None
    for g in grosses:
        for n in nets:
            for t in tax_options:
                if abs(n[0] + t[0] - g[0]) <= CENT:
                    score = prior(g) + prior(n) + prior(t)
                    if best is None or score > best[0]:
                        best = (score, n, t, g)
        if not taxes:
            for n in nets:
                if n[0] == g[0]:
                    score = prior(g) + prior(n)
                    if best is None or score > best[0]:
                        best = (score, n, None, g)
    if best:
        _score, n, t, g = best
        out["net_total"] = make("net_total", n, "sums_consistent")
        out["gross_total"] = make("gross_total", g, "sums_consistent")
        if t is not None:
            out["tax_total"] = make("tax_total", t, "sums_consistent")
            if t[3] == "sum":
                out["tax_total"].explanation = _("Sum of the VAT lines (%(cue)s)") % {
                    "cue": out["tax_total"].explanation}
    else:
        for name in ("net_total", "tax_total", "gross_total"):
            if cands[name]:
                entry = max(cands[name], key=prior)
                present = sum(bool(cands[k]) for k in ("net_total", "tax_total", "gross_total"))
                out[name] = make(name, entry, "amount_contradiction" if present == 3 else "amount_label")
    _derive_missing_total(out)
    no_vat = NO_VAT.search(doc.text)
    if "gross_total" in out and "net_total" not in out and "tax_total" not in out and no_vat:
        g = out["gross_total"]
        out["net_total"] = Candidate(g.value, "amount_derived",
                                     _("%(cue)s (no VAT charged)") % {"cue": g.explanation})
        out["tax_total"] = Candidate("0.00", "amount_derived", _cue_text(no_vat.group()))
    gross = parse_decimal(out["gross_total"].value) if "gross_total" in out else None
    prepaid = [e for e in cands["prepaid"] if e[0]]
    # Amount due = gross total − payments already made: a printed amount due that agrees wins.
    expected = {abs(gross) - abs(e[0]) for e in prepaid} if gross is not None else set()
    agreeing = [e for e in cands["amount_due"] if abs(e[0]) in expected]
    if agreeing:
        out["amount_due"] = make("amount_due", max(agreeing, key=prior), "due_consistent")
    elif cands["amount_due"]:
        entry = max(cands["amount_due"], key=prior)
        cand = make("amount_due", entry, "due_label")
        if gross is not None and (abs(entry[0]) > abs(gross) + CENT or (prepaid and abs(entry[0]) == abs(gross))):
            cand.kind = "amount_label"
        out["amount_due"] = cand
    elif gross is not None and prepaid:
        entry = max(prepaid, key=prior)
        due = decimal_string(gross - abs(entry[0]) if gross >= 0 else gross + abs(entry[0]))
        why = _("amount due = gross total − prepaid (%(gross)s; %(paid)s)") % {
            "gross": out["gross_total"].explanation, "paid": _cue(entry[4], entry[4].text)}
        out["amount_due"] = Candidate(due, "due_from_prepaid", why, order=entry[2])
    elif "gross_total" in out:
        # No separate amount due printed: the gross total is what is payable.
        g = out["gross_total"]
        out["amount_due"] = Candidate(g.value, "due_from_gross",
                                      _("%(cue)s (amount due = gross total)") % {"cue": g.explanation})
    return out


def _derive_missing_total(out: dict) -> None:
    """One total missing from the page follows from the other two (net + tax = gross); a gross total equal
    to the net total means no tax (small businesses, exempt supplies)."""
    parsed = {k: parse_decimal(out[k].value) for k in ("net_total", "tax_total", "gross_total") if k in out}
    have = {k: value for k, value in parsed.items() if value is not None}
    if len(have) != 2:
        return
    if "tax_total" not in have:
        value, parts = have["gross_total"] - have["net_total"], ("gross_total", "net_total")
        if value < 0 < have["net_total"]:
            return
        text = _("gross total − net total")
        name = "tax_total"
    elif "net_total" not in have:
        value, name, text = have["gross_total"] - have["tax_total"], "net_total", _("gross total − tax")
        parts = ("gross_total", "tax_total")
    else:
        value, name, text = have["net_total"] + have["tax_total"], "gross_total", _("net total + tax")
        parts = ("net_total", "tax_total")
    basis = "; ".join(out[p].explanation for p in parts)
    out[name] = Candidate(decimal_string(value), "amount_derived", f"{text} ({basis})")


# --- names ------------------------------------------------------------------------------------------

def _label_names(doc: Document) -> dict:
    out: dict[str, Candidate] = {}
    for block in _blocks(doc):
        if block.kind not in ("seller", "buyer"):
            continue
        name = f"{block.kind}_name"
        if name in out:
            continue
        header_row = doc.rows[block.header_row]
        head = _HEAD_SEPARATOR.split(block.rest, maxsplit=1)[0] if block.rest else ""
        if head and not re.search(r"\d", head):
            out[name] = Candidate(f.collapse(head), "name_label", _cue(header_row, block.header.text),
                                  order=block.header_row)
            continue
        labelled = None
        for j in block.rows:
            row = doc.rows[j]
            inside = [s for s in row.segments if block.x_from <= s.x0 < block.x_to]
            m = NAME_LABEL.match(inside[0].text)
            if not m:
                continue
            rest = inside[0].text[m.end():].strip()
            if rest:
                labelled = Candidate(f.collapse(rest), "name_label", _cue(row, inside[0].text), order=j)
            elif len(inside) > 1:
                parts = _continuation(doc, j, inside[1])
                labelled = Candidate(f.collapse(" ".join(parts)), "name_label",
                                     _cue(row, f"{inside[0].text} {' '.join(parts)}"), order=j)
            break
        if labelled is None:
            # No "Name:" label: the block's first line names the party (after a salutation line); the line
            # starts where the heading starts (text further right, or a title in large type, stands beside it).
            for n, j in enumerate(block.rows):
                inside = [s for s in doc.rows[j].segments if block.x_from <= s.x0 < block.x_to
                          and s.x0 <= block.header.x0 + 8 and s.size < 1.6 * doc.body_size]
                if not inside:
                    continue
                text = inside[0].text.strip()
                if ((SALUTATION.match(text) or DEPARTMENT.match(text)) or text.endswith(":")
                        or re.match(r"^(nummer|nr|kunden|id|gln)\b", text, re.I)):
                    continue
                if re.search(r"\d", text) and not LEGAL_FORM.search(text):
                    break
                nxt = block.rows[n + 1] if n + 1 < len(block.rows) else None
                tail = [s for s in doc.rows[nxt].segments if abs(s.x0 - inside[0].x0) < 4] if nxt is not None else []
                if tail and _WRAPPED_FORM.fullmatch(tail[0].text.strip()):
                    text = f"{text} {tail[0].text.strip()}"  # a name wrapped before its legal form
                labelled = Candidate(f.collapse(text), "name_section", _cue(doc.rows[j], f"{block.header.text} {text}"),
                                     order=j)
                break
        if labelled and not re.fullmatch(r"[\d\W]+", labelled.value):
            out[name] = labelled
    return out


_AND_CO = re.compile(r"\s*&\s*Co\.?\s*KG(?!\w)")
_WRAPPED_FORM = re.compile(r"(?:&\s*|und\s+)?(?:Co\.?\s*)?" + LEGAL_FORM.pattern + r"(?:\s*&\s*Co\.?\s*KG)?\.?")


def _continuation(doc: Document, index: int, seg: Segment) -> list[str]:
    """A name broken over lines: unlabelled lines in the value's column, closer than the line pitch."""
    parts = [seg.text]
    pitch = 1.35 * seg.size
    for step in (-1, 1):
        j = index + step
        while 0 <= j < len(doc.rows):
            row = doc.rows[j]
            near = doc.rows[j - step] if step == 1 else doc.rows[j + 1]
            gap = (row.top - near.top) if step == 1 else (near.top - row.top)
            col = [s for s in row.segments if abs(s.x0 - seg.x0) < 3]
            if row.page != doc.rows[index].page or gap > pitch or len(row.segments) != 1 or not col \
                    or col[0].bold != seg.bold or abs(col[0].size - seg.size) > 0.5:
                break
            if step == -1:
                parts.insert(0, col[0].text)
            else:
                parts.append(col[0].text)
            j += step
    return parts


_TITLE_WORDS = re.compile(r"rechnung|invoice|gutschrift|credit|refund|korrektur|abrechnung|lieferschein|angebot|"
                          r"seite|page|datum|date|facture|(?<!\w)avoir(?!\w)|devis", re.I)


def _layout_names(doc: Document) -> dict:
    """Names when no block is labelled: the sender line over the address window, letterhead, footer.

    Each source proposes a seller; where two sources agree the name is taken with more confidence."""
    out: dict[str, Any] = {}  # candidates by field, and the seller's sources for _pick_seller
    page0 = [(i, r) for i, r in enumerate(doc.rows) if r.page == 0]
    if not page0:
        return out
    height = doc.page_height(0)
    senders: list[tuple[bool, Candidate]] = []
    letterhead: list[Candidate] = []
    marginals: list[tuple[float, int, Candidate]] = []
    # Sender line: small print with separators and a postcode, directly above the recipient's address
    # (DIN 5008); its first part is the sender's name, and the address below names the buyer.
    for i, row in page0:
        if row.top > 0.45 * height:
            break
        for seg in row.segments:
            if not (re.search(r"[·•|,–-]\s", seg.text) and POSTCODE.search(seg.text)
                    and seg.size <= doc.body_size + 0.5):
                continue
            parts = [p.strip() for p in _LETTERHEAD_SEPARATOR.split(seg.text) if p.strip()]
            parts = [p for p in parts if not re.match(r"inh(?:\.|aber)", p, re.I)]
            head = parts[0] if parts else ""
            if len(head) <= 2 or re.search(r"\d", head) or ":" in head:
                continue  # an address line ("Industriestraße 4 · 34117 Kassel"), not a sender line
            buyer = _address_block_name(doc, i, seg)
            senders.append((buyer is not None, Candidate(head, "name_layout", _cue(row, seg.text), order=i)))
            if buyer and "buyer_name" not in out:
                out["buyer_name"] = buyer
            break
    # A sender line over an address block beats other small print with a postcode.
    sender = [c for _has_block, c in sorted(senders, key=lambda t: (not t[0], t[1].order))]
    # Letterhead: the largest text at the top of the first page that is not the document's title.
    top = [(s, i, r) for i, r in page0 if r.top < 0.22 * height for s in r.segments]
    big = [t for t in top if t[0].size >= 1.25 * doc.body_size and len(t[0].text) >= 3 and not t[0].text.endswith(":")
           and not _TITLE_WORDS.search(t[0].text) and not re.search(r"\d", t[0].text)]
    for seg, i, row in sorted(big, key=lambda t: (-t[0].size, t[1])):
        letterhead.append(Candidate(f.collapse(seg.text), "name_layout", _cue(row, seg.text), order=i))
    # Letterhead and footer: text with a legal form.
    for i, row in enumerate(doc.rows):
        h = doc.page_height(row.page)
        if (row.page == 0 and row.top < 0.25 * h) or row.top > 0.85 * h:
            for seg in row.segments:
                m = LEGAL_FORM.search(seg.text)
                if m and m.start() < 80 and not _in_window(doc, row, seg):
                    end = m.end()
                    if co := _AND_CO.match(seg.text, end):
                        end = co.end()
                    name = _NAME_SEPARATOR.split(seg.text[:end])[-1].strip()
                    if len(name) > len(m.group()) + 1:
                        marginals.append((seg.size, -i, Candidate(name, "name_layout", _cue(row, seg.text),
                                                                  order=i)))
    marginal = [c for _s, _i, c in sorted(marginals, key=lambda t: (-t[0], -t[1]))]
    if "buyer_name" not in out:
        window = _window_name(doc)
        if window:
            out["buyer_name"] = window
    out["_seller_sources"] = [sender, letterhead, marginal]
    return out


def _in_window(doc: Document, row: Row, seg: Segment) -> bool:
    """DIN 5008 address field: 27-100 mm from the top edge, on the left half of the first page."""
    height = doc.page_height(0)
    return row.page == 0 and doc.window_top() <= row.top <= 0.36 * height and seg.x0 < 0.45 * 595


def _window_name(doc: Document) -> Candidate | None:
    """The recipient when no sender line marks the address: a block of 3-6 short left-hand lines in the
    address field whose last lines carry a postcode; its first line (after a salutation) is the name."""
    # The address field on the left (DIN 5008) or, alone on its rows, on the right (as French and Swiss
    # letters place it).
    lines = [(i, row, seg) for i, row in enumerate(doc.rows) for seg in row.segments[:1]
             if _in_window(doc, row, seg) or (len(row.segments) == 1 and seg.x0 >= 0.45 * 595 and row.page == 0
                                              and doc.window_top() <= row.top <= 0.36 * doc.page_height(0))]
    blocks: list[list[tuple[int, Row, Segment]]] = []
    current: list[tuple[int, Row, Segment]] = []
    for entry in lines:
        if current and (entry[1].top - current[-1][1].bottom > 1.6 * entry[2].size
                        or abs(entry[2].x0 - current[0][2].x0) > 8):
            blocks.append(current)
            current = []
        current.append(entry)
    if current:
        blocks.append(current)
    for block in blocks:
        if not 2 <= len(block) <= 7 or not any(POSTCODE.search(seg.text)
                                                for _i, _r, seg in block[1:]):
            continue
        for i, row, seg in block:
            text = seg.text.strip()
            if (SALUTATION.match(text) or DEPARTMENT.match(text)) or len(text) < 3 or _section_kind(text)[0]:
                continue
            if seg.size < doc.body_size - 1 and (re.search(r"\s[·•|–-]\s", text) or text.count(",") >= 2):
                continue  # the sender line over the address window, in small print
            if "@" in text or (re.search(r"\d", text) and not LEGAL_FORM.search(text)):
                break  # a street or a contact line first: not a recipient's address block
            return Candidate(f.collapse(text), "name_layout", _cue(row, text), order=i)
    return None


def _legal_name(name: str, sources: list[list[Candidate]], exclude: set[str]) -> Candidate | None:
    """A name with a legal form among the layout's candidates that shares a word with `name` (a brand)."""
    words = set(re.findall(r"\w{3,}", name.casefold()))
    for src in sources:
        for c in src[:3]:
            if c.value.casefold() not in exclude and LEGAL_FORM.search(c.value) \
                    and words & set(re.findall(r"\w{3,}", c.value.casefold())):
                return c
    return None


def _pick_seller(sources: list[list[Candidate]], exclude: set[str]) -> Candidate | None:
    sources = [[c for c in src if c.value.casefold() not in exclude] for src in sources]
    firsts = [src[0] for src in sources if src]
    if not firsts:
        return None
    if not LEGAL_FORM.search(firsts[0].value):
        # A letterhead may show a brand; the legal name (with its legal form) stands in the sender line or
        # the footer.
        legal = _legal_name(firsts[0].value, sources, set())
        if legal:
            firsts = [legal] + [c for c in firsts if c is not legal]
    for cand in firsts:
        agreeing = sum(any(c.value.casefold() == cand.value.casefold() for c in src[:3]) for src in sources)
        if agreeing > 1:
            cand.kind = "name_agree"
            return cand
    return firsts[0]


def _address_block_name(doc: Document, index: int, sender: Segment) -> Candidate | None:
    """The first line of the address block right under a sender line: the recipient's name."""
    for row in doc.rows[index + 1:index + 5]:
        if row.top - doc.rows[index].bottom > 4 * max(doc.body_size, 8):
            return None
        segs = [s for s in row.segments if abs(s.x0 - sender.x0) < 8]
        if not segs:
            continue
        text = segs[0].text.strip()
        if (SALUTATION.match(text) or DEPARTMENT.match(text)):
            continue
        if "@" in text or re.search(r"www\.|https?:", text) or (re.search(r"\d", text) and not LEGAL_FORM.search(text)):
            return None
        return Candidate(text, "name_layout", _cue(row, text), order=index)
    return None


def _names(doc: Document) -> dict:
    if doc.names is not None:
        return doc.names
    found = _label_names(doc)
    layout = _layout_names(doc)
    if "buyer_name" not in found and "buyer_name" in layout:
        found["buyer_name"] = layout["buyer_name"]
    exclude = {found["buyer_name"].value.casefold()} if "buyer_name" in found else set()
    if "seller_name" not in found:
        pick = _pick_seller(layout.get("_seller_sources", []), exclude)
        if pick:
            found["seller_name"] = pick
    elif not LEGAL_FORM.search(found["seller_name"].value):
        # A block may be headed by a brand; the legal name with the same word stands in the footer.
        legal = _legal_name(found["seller_name"].value, layout.get("_seller_sources", []), exclude)
        if legal:
            found["seller_name"] = legal
    doc.names = found
    return found
