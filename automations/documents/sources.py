"""Where on the page a field's value was read: the boxes of the words that print it.

The document stage keeps every word with its box ([text, x0, top, x1, bottom, confidence] in points from
the top left corner); an engine's explanation names the text it read and its page ("Text: 'Summe netto
27.602,06 €' (page 1)"). `value_boxes` finds the words that print the value (an amount or a date in any
of its printed forms, an IBAN in groups, a name over several words), preferring the ones on the line the
explanation quotes, so that the review page can mark them on the page image."""
import re
from dataclasses import dataclass

from automations.engines.validation import parse_date, parse_decimal

AMOUNT_FIELDS = {"net_total", "tax_total", "gross_total", "amount_due", "amount", "total"}
DATE_FIELDS = {"issue_date", "due_date", "date"}
COMPACT_FIELDS = {"iban", "seller_vat_id", "buyer_vat_id", "vat_id"}
MAX_SPAN = 8  # words one value may take ("Steuerberatung Hofer & Lang PartG mbB")
_PAGE = re.compile(r"\(page (\d+)\)\s*$")
_QUOTED = re.compile(r"'(.*)'")


@dataclass
class Source:
    page: int  # 1-based
    boxes: list[tuple[float, float, float, float]]  # x0, top, x1, bottom in points


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _matches(field: str, value: str, text: str) -> bool:
    if field in AMOUNT_FIELDS:
        wanted, got = parse_decimal(value), parse_decimal(text)
        return wanted is not None and got is not None and abs(got) == abs(wanted) and any(c.isdigit() for c in text)
    if field in DATE_FIELDS:
        day = parse_date(text)
        return day is not None and day.isoformat() == value
    if field in COMPACT_FIELDS:
        return re.sub(r"\s", "", text).upper() == re.sub(r"\s", "", value).upper()
    return _norm(text) == _norm(value)


def _lines(words: list) -> list[list]:
    """Words grouped into lines by their vertical middle, each line left to right."""
    lines: list[list] = []
    for word in sorted(words, key=lambda w: ((w[2] + w[4]) / 2, w[1])):
        middle = (word[2] + word[4]) / 2
        if lines and abs(middle - lines[-1][0]) <= max(2.0, 0.4 * (word[4] - word[2])):
            lines[-1][1].append(word)
        else:
            lines.append([middle, [word]])
    return [sorted(line, key=lambda w: w[1]) for _m, line in lines]


def _spans(line: list):
    for start in range(len(line)):
        for end in range(start + 1, min(len(line), start + MAX_SPAN) + 1):
            yield line[start:end]


def value_boxes(field: str, value, explanation: str, pages: list[tuple[int, list]]) -> Source | None:
    """The words printing `value` on one of `pages` ((number, words) pairs); None if the value is not
    printed there (a value derived from others, or read from XML)."""
    if value in (None, ""):
        return None
    value = str(value)
    quoted = _QUOTED.search(explanation or "")
    cue = _norm(quoted[1]) if quoted else ""
    page_hint = _PAGE.search(explanation or "")
    ordered = sorted(pages, key=lambda p: (page_hint is None or p[0] != int(page_hint[1]), p[0]))
    best = None
    for number, words in ordered:
        for line in _lines(words):
            line_text = _norm(" ".join(w[0] for w in line))
            on_cue = bool(cue) and (line_text in cue or cue in line_text)
            for span in _spans(line):
                if not _matches(field, value, " ".join(w[0] for w in span)):
                    continue
                rank = (on_cue, page_hint is not None and number == int(page_hint[1]))
                if best is None or rank > best[0]:
                    best = (rank, Source(number, [(w[1], w[2], w[3], w[4]) for w in span]))
                break
        if best and best[0] == (True, True):
            break
    return best[1] if best else None
