"""Text as the classifier sees it: the input columns joined, personal identifiers replaced by placeholders
and German spelling variants folded together.

Identifiers are replaced BEFORE vectorising, so that no e-mail address, IBAN, phone number or long number
can end up in a vocabulary, an n-gram or anything else the stored artifact holds (DESIGN.md, erase_subject).
The placeholders themselves stay informative ("a phone number was given").

Every pattern here runs on whatever a ticket or document holds and takes time linear in its length
(automations.engines.patterns): a run of one character class is scanned once, from where it begins."""
import hashlib
import json
import re
import unicodedata

from automations.engines import patterns

EMAIL = "xemailx"
IBAN = "xibanx"
PHONE = "xphonex"
NUMBER = "xnumberx"
URL = "xurlx"
DATE = "xdatex"
AMOUNT = "xamountx"

_EMAIL = patterns.EMAIL
# A pattern that begins with a character class rather than with \b lets the engine skip the characters that
# cannot start a match; `X(?<!\w.)` says what `\bX` says (no word character before X).
_URL = re.compile(r"[hw](?<!\w.)(?:(?<=h)ttps?://|(?<=w)ww\.)\S+", re.IGNORECASE)
# Two letters, two check digits, then 11-30 alphanumerics, optionally grouped by spaces (DE: 18 digits).
_IBAN = re.compile(r"[A-Z](?<!\w.)[A-Z]\d{2}(?:[ ]?[A-Z0-9]){11,30}\b", re.IGNORECASE)
# A run of digits with the separators phone numbers are written with: +49 (0)89 123 45-67, 0171/1234567.
_PHONE = re.compile(r"(?<![\w])(?:\+|00)?\(?\d[\d ()/.\-]{5,}\d(?![\w])")
_DATE = re.compile(r"\d(?<!\w.)(?:\d?\.\s?\d{1,2}\.\s?(?:\d{4}|\d{2})\b|\d{3}-\d{2}-\d{2}\b)")
_AMOUNT = re.compile(r"\d(?<!\w.)(?:\d{0,2}(?:\.\d{3})+(?:,\d{1,2})?\b|\d*+,\d{2}\b)")
_LONG_NUMBER = re.compile(r"\d{5,}")
_DIGIT = re.compile(r"\d")
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_SPACES = re.compile(r"\s+")


def _phone_or_number(match: re.Match) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    if digits >= 7:
        return f" {PHONE} "
    return match.group(0)


def mask_identifiers(text: str) -> str:
    """Replace e-mail addresses, URLs, IBANs, dates, amounts, phone numbers and digit runs of five or more
    by placeholders (dates and amounts first, so that they are not mistaken for phone numbers)."""
    if "@" in text:
        text = _EMAIL.sub(f" {EMAIL} ", text)
    text = _URL.sub(f" {URL} ", text)
    if not _DIGIT.search(text):  # every other identifier holds a digit
        return text
    text = _IBAN.sub(lambda m: f" {IBAN} " if sum(c.isdigit() for c in m.group(0)) >= 10 else m.group(0), text)
    text = _DATE.sub(f" {DATE} ", text)
    text = _AMOUNT.sub(f" {AMOUNT} ", text)
    text = _PHONE.sub(_phone_or_number, text)
    return _LONG_NUMBER.sub(f" {NUMBER} ", text)


def normalise(text: str) -> str:
    """Lower case, umlauts and ß folded (customers write both "Rückgabe" and "Rueckgabe"), whitespace
    collapsed. Identifiers are masked first."""
    text = unicodedata.normalize("NFC", str(text or ""))
    text = mask_identifiers(text).lower().translate(_FOLD)
    return _SPACES.sub(" ", text).strip()


def join_columns(texts: dict, columns: list[str]) -> str:
    """The input columns in a fixed order, one per line (subject first, then body, as a person reads)."""
    return "\n".join(str(texts.get(c) or "").strip() for c in columns if str(texts.get(c) or "").strip())


def prepare(texts: dict, columns: list[str]) -> str:
    """The columns normalised one by one, one line each in the given order (an empty column an empty
    line), so that per-column features find them by position; word and character features read the
    line breaks as spaces."""
    return "\n".join(normalise(texts.get(c) or "") for c in columns)


class ColumnText:
    """The n-th column of a prepared text (a vectoriser's preprocessor; a class, so that it pickles)."""

    def __init__(self, index: int):
        self.index = index

    def __call__(self, text: str) -> str:
        parts = text.split("\n")
        return parts[self.index] if self.index < len(parts) else ""


def text_hash(texts: dict) -> str:
    """An example's identity: its texts with whitespace collapsed (stored as LabelledExample.content_hash)."""
    canonical = {k: " ".join(str(v or "").split()) for k, v in sorted(texts.items())}
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
