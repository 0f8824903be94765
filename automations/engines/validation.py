"""Field validators shared by the engines and the pipeline's validate step.

Parsers return None for what they cannot read instead of raising; checks return booleans; and
`invoice_validation_reasons` turns an invoice's fields into reasons for the clerk without changing a value
(DESIGN.md: a validation failure never changes an extracted value)."""
import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import iban, numdb
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.gb import vat as gb_vat

CENT = Decimal("0.01")

# Both linear in the value's length: the spaces before a currency are taken from where their run begins,
# and "digits and separators with at least one digit" is checked without backtracking.
_CURRENCY = re.compile(r"(?:(?<!\s)\s++)?(?:EUR|€|USD|\$|CHF|GBP|£)\s*+", re.I)
_DIGITS_AND_SEPARATORS = re.compile(r"(?=[.,]*+\d)[\d.,]++")

MONTHS = {
    "januar": 1, "jänner": 1, "january": 1, "jan": 1, "februar": 2, "february": 2, "feb": 2, "märz": 3,
    "maerz": 3, "march": 3, "mär": 3, "mar": 3, "april": 4, "apr": 4, "mai": 5, "may": 5, "juni": 6,
    "june": 6, "jun": 6, "juli": 7, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "oktober": 10, "october": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11,
    "dezember": 12, "december": 12, "dez": 12, "dec": 12,
    # French
    "janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "fév": 2, "mars": 3, "avril": 4, "avr": 4,
    "juin": 6, "juillet": 7, "juil": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12, "déc": 12,
}


def compact(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value or "").upper()


def iban_valid(value: str | None) -> bool:
    """ISO 13616 (python-stdnum): the country's length and account format, and the mod-97 check digits."""
    return iban.is_valid(compact(value or ""))


def iban_well_formed(value: str | None) -> bool:
    """Shaped like an IBAN of its country (length and account format), whatever its check digits say: a
    misprinted or fictitious IBAN is read and then flagged by validation rather than skipped; a country
    without IBANs is none."""
    value = compact(value or "")
    if not numdb.get("iban").info(value)[0][1]:
        return False
    try:
        iban.validate(value)
    except InvalidChecksum:
        return True
    except ValidationError:
        return False
    return True


def _vat_module(vat: str):
    # GB numbers left the EU's VIES but still stand on invoices; EL is Greece's prefix there.
    return gb_vat if vat.startswith("GB") else eu_vat


def vat_id_valid(value: str | None) -> bool:
    """An EU VAT identification number (or a British one): the country's format and its check digits
    (python-stdnum; no online lookup)."""
    vat = compact(value or "")
    return bool(vat) and _vat_module(vat).is_valid(vat)


def vat_id_well_formed(value: str | None) -> bool:
    """Shaped like a VAT id of its country (DE + 9 digits, ATU + 8 digits, ...), whatever its check digits
    say: how an engine recognises one on a page. A misprinted id is read and then flagged by validation
    rather than skipped."""
    vat = compact(value or "")
    if not vat:
        return False
    try:
        _vat_module(vat).validate(vat)
    except InvalidChecksum:
        return True
    except ValidationError:
        return False
    return True


def parse_decimal(value) -> Decimal | None:
    """German ("1.234,56", "-1.234,56 €") and English ("1,234.56") amounts, and plain XML decimals."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    text = str(value).strip().replace("\u2212", "-").replace("\u00a0", " ").replace("\u202f", " ")
    text = _CURRENCY.sub("", text)
    negative = False
    if text.endswith("-") or (text.startswith("(") and text.endswith(")")):
        negative, text = True, text.strip("()-")
    if text.startswith("-"):
        negative, text = True, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    text = text.replace(" ", "").replace("'", "")
    if not _DIGITS_AND_SEPARATORS.fullmatch(text):
        return None
    last_comma, last_dot = text.rfind(","), text.rfind(".")
    if last_comma > last_dot:  # German: "." groups thousands, "," separates decimals
        if text.count(",") > 1:
            return None
        integer, _sep, fraction = text.partition(",")
        if "." in integer and not re.fullmatch(r"\d{1,3}(\.\d{3})+", integer):
            return None
        text = integer.replace(".", "") + "." + fraction
    elif last_dot > last_comma:
        if text.count(".") > 1:  # "1.234.567" groups only
            if not re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
                return None
            text = text.replace(".", "")
        else:
            integer, _sep, fraction = text.partition(".")
            if "," in integer and not re.fullmatch(r"\d{1,3}(,\d{3})+", integer):
                return None
            text = integer.replace(",", "") + "." + fraction
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return -number if negative else number


def decimal_string(value: Decimal) -> str:
    """Money as a plain decimal string with at least two places ("300" -> "300.00")."""
    exponent = value.as_tuple().exponent  # a letter for NaN and infinity, which stay as they are
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(CENT)
    return format(value, "f")


def parse_date(value) -> dt.date | None:
    """ISO, CII format 102 (YYYYMMDD), German (25.11.2026, 25.11.26, 25. November 2026) and English dates."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = " ".join(str(value).split()).strip()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:T.*)?", text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})", text):
            return dt.date(_year(m[3]), int(m[2]), int(m[1]))
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):  # day first, as in most of Europe
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        if m := re.fullmatch(r"(\d{1,2})(?:er)?\.?\s+([^\W\d_]+)\.?,?\s+(\d{4})", text):
            month = MONTHS.get(m[2].lower())
            return dt.date(int(m[3]), month, int(m[1])) if month else None
        if m := re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", text):
            month = MONTHS.get(m[1].lower())
            return dt.date(int(m[3]), month, int(m[2])) if month else None
    except ValueError:
        return None
    return None


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def sums_consistent(net, tax, gross) -> bool:
    """net + tax = gross within a cent."""
    net_d, tax_d, gross_d = (parse_decimal(v) for v in (net, tax, gross))
    if net_d is None or tax_d is None or gross_d is None:
        return False
    return abs(net_d + tax_d - gross_d) <= CENT


def amount_due_plausible(gross, due) -> bool:
    """The amount due is the gross total less prepayments: never beyond it in absolute value, same sign."""
    gross_d, due_d = parse_decimal(gross), parse_decimal(due)
    if gross_d is None or due_d is None:
        return False
    if gross_d == 0:
        return due_d == 0
    return abs(due_d) <= abs(gross_d) + CENT and (due_d == 0 or (due_d > 0) == (gross_d > 0))


def invoice_validation_reasons(fields: dict, *, today: dt.date | None = None,
                               labels: dict | None = None) -> list[str]:
    """Reasons a clerk should see for an invoice's fields ({name: value} or {name: {"value": ...}}); fields
    are named by their labels where `labels` ({name: label}) has them."""
    labels = labels or {}
    values = {name: (v.get("value") if isinstance(v, dict) else v) for name, v in (fields or {}).items()}
    reasons = []
    net, tax, gross, due = (values.get(k) for k in ("net_total", "tax_total", "gross_total", "amount_due"))
    for name in ("net_total", "tax_total", "gross_total", "amount_due"):
        if values.get(name) not in (None, "") and parse_decimal(values[name]) is None:
            reasons.append(_("%(field)s is not a number: %(value)s")
                           % {"field": labels.get(name) or name, "value": values[name]})
    if all(parse_decimal(v) is not None for v in (net, tax, gross)) and not sums_consistent(net, tax, gross):
        reasons.append(_("Net total %(net)s plus tax %(tax)s does not equal the gross total %(gross)s.")
                       % {"net": net, "tax": tax, "gross": gross})
    if parse_decimal(gross) is not None and parse_decimal(due) is not None and not amount_due_plausible(gross, due):
        reasons.append(_("The amount due %(due)s does not fit the gross total %(gross)s.")
                       % {"due": due, "gross": gross})
    if values.get("seller_vat_id") and not vat_id_well_formed(values["seller_vat_id"]):
        reasons.append(_("The seller's VAT id %(vat)s does not have a valid format.")
                       % {"vat": values["seller_vat_id"]})
    elif values.get("seller_vat_id") and not vat_id_valid(values["seller_vat_id"]):
        reasons.append(_("The seller's VAT id %(vat)s fails its check digit.") % {"vat": values["seller_vat_id"]})
    if values.get("iban") and not iban_valid(values["iban"]):
        reasons.append(_("The IBAN %(iban)s fails the checksum.") % {"iban": values["iban"]})
    if values.get("issue_date"):
        date = parse_date(values["issue_date"])
        today = today or timezone.localdate()
        if date is None:
            reasons.append(_("The issue date %(date)s cannot be read.") % {"date": values["issue_date"]})
        elif date > today + dt.timedelta(days=1):
            reasons.append(_("The issue date %(date)s lies in the future.") % {"date": values["issue_date"]})
        elif date < today - dt.timedelta(days=365 * 10):
            reasons.append(_("The issue date %(date)s is more than ten years old.") % {"date": values["issue_date"]})
    return reasons
