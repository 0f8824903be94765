"""The `final` set's layouts (bench/invoice_corpus.py): a fifth PDF producer, GNU troff with tbl, set by
groff's PDF driver (`groff -t -Tpdf`, Debian's `groff` package) in its URW fonts (Times, Helvetica,
Palatino, New Century Schoolbook). Written after the reader and its confidence model were frozen, and
measured once: never tuned on, never fitted on."""
import random
import subprocess

from invoice_corpus import (
    ATTENTION,
    BRANDS,
    ITEM_HEAD,
    Invoice,
    _address,
    _meta,
    _spaced,
    _totals,
    fmt_amount,
    fmt_rate,
)

OWNER = {"de": "Kontoinhaber", "fr": "Titulaire du compte", "en": "Account holder"}
CLOSING = {"de": "Vielen Dank für Ihren Auftrag.", "fr": "Nous vous remercions de votre confiance.",
           "en": "Thank you for your business."}


def _t(text: str) -> str:
    """Text safe at the start of a troff line and inside a tbl cell."""
    text = text.replace("\\", "\\e").replace("\u00a0", "\\~").replace("\t", " ")
    return "\\&" + text


def _groff(source: str) -> bytes:
    done = subprocess.run(["groff", "-t", "-Tpdf", "-Kutf8", "-P-pa4"], input=source.encode(), capture_output=True,
                          check=True, timeout=60)
    return done.stdout


def _head(inv: Invoice) -> list[str]:
    return [".pl 29.7c", ".ll 17c", ".po 2c", f".fam {inv.fonts[0]}", ".ps 10", ".vs 12p", ".nh", ".na"]


def _letterhead(inv: Invoice, rng: random.Random) -> str:
    brand = BRANDS.get(inv.seller[0])
    return brand if brand and rng.random() < 0.7 else inv.seller[0]


def _buyer(inv: Invoice, rng: random.Random) -> list[str]:
    lines = _address(inv.buyer)
    if rng.random() < 0.3:
        lines.insert(0, rng.choice(ATTENTION[inv.lang]))
    return lines


def _items(inv: Invoice) -> list[str]:
    head = "|".join(f"\\fB{_t(h)}\\fP" for h in ITEM_HEAD[inv.lang])
    out = [".sp 1.5", ".TS", "tab(|) expand;", "l l r r r r.", head, "_"]
    for n, line in enumerate(inv.lines, 1):
        out.append("|".join(_t(c) for c in (str(n), line.text, f"{line.quantity}", fmt_amount(inv, line.price),
                                             f"{fmt_rate(inv, line.rate)} %", fmt_amount(inv, line.net))))
    out += ["_", ".TE"]
    return out


def _totals_table(inv: Invoice) -> list[str]:
    rows = _totals(inv)
    out = [".sp", ".TS", "tab(|);", "l r."]
    for n, (label, value) in enumerate(rows):
        cells = (_t(label), _t(value))
        if n == len(rows) - 1:
            cells = tuple(f"\\fB{c}\\fP" for c in cells)
        out.append("|".join(cells))
    out.append(".TE")
    return out


def groff_memo(inv: Invoice) -> bytes:
    """Title centred at the top, the parties side by side in a table under their labels, reference data
    as a two-column table, items, totals flush right, bank and VAT id in the last lines."""
    rng = random.Random(f"{inv.number}-{inv.layout}")
    src = _head(inv)
    src += [".ps 18", ".ce", f"\\fB{_t(inv.title)}\\fP", ".ps 10", ".sp 1.5"]
    seller = [inv.seller[0], *_address(inv.seller)[1:], f"{inv.labels['vat']} {inv.seller_vat}"]
    buyer = _buyer(inv, rng)
    if inv.buyer_vat:
        buyer.append(f"{inv.labels['buyer_vat']} {inv.buyer_vat}")
    left, right = (("seller", seller), ("buyer", buyer)) if rng.random() < 0.6 else (("buyer", buyer),
                                                                                     ("seller", seller))
    src += [".TS", "tab(|);", "lw(8c) lw(8c).",
            f"\\fB{_t(inv.labels[left[0]])}\\fP|\\fB{_t(inv.labels[right[0]])}\\fP"]
    for k in range(max(len(left[1]), len(right[1]))):
        a = left[1][k] if k < len(left[1]) else ""
        b = right[1][k] if k < len(right[1]) else ""
        src.append(f"{_t(a)}|{_t(b)}")
    src += [".TE", ".sp", ".TS", "tab(|);", "l l."]
    for label, value in _meta(inv):
        src.append(f"{_t(label)}|{_t(value)}")
    src.append(".TE")
    src += _items(inv)
    src += _totals_table(inv)
    src += [".sp 2", ".ps 8", _t(f"{inv.labels['iban']} {_spaced(inv.iban)}"), ".br"]
    if rng.random() < 0.5:
        src += [_t(f"{OWNER[inv.lang]}: {inv.seller[0]}"), ".br"]
    src += [_t(CLOSING[inv.lang])]
    return _groff("\n".join(src) + "\n")


def groff_letter(inv: Invoice) -> bytes:
    """A letter: the brand or name as a centred letterhead with the address under it, the buyer's address
    at the left without a label (sometimes under a department line), reference data in a table at the
    right, title and number, items, totals flush right, the legal name with bank and VAT id at the end."""
    rng = random.Random(f"{inv.number}-{inv.layout}")
    src = _head(inv)
    src += [".ps 20", ".ce", f"\\fB{_t(_letterhead(inv, rng))}\\fP", ".ps 8", ".ce",
            _t(f"{inv.seller[1]} | {inv.seller[2]} {inv.seller[3]}"), ".ps 10", ".sp 2"]
    meta = _meta(inv)
    buyer = _buyer(inv, rng)
    src += [".TS", "tab(|);", "lw(9c) l r."]
    for k in range(max(len(buyer), len(meta))):
        a = buyer[k] if k < len(buyer) else ""
        label, value = meta[k] if k < len(meta) else ("", "")
        src.append(f"{_t(a)}|\\s-1{_t(label)}\\s0|\\s-1{_t(value)}\\s0")
    src += [".TE", ".sp 2", ".ps 14", f"\\fB{_t(inv.title)} {_t(inv.number)}\\fP", ".ps 10", ".sp"]
    src += _items(inv)
    src += _totals_table(inv)
    src += [".sp 2", ".ps 8", ".ce 2", _t(f"{inv.seller[0]} · {inv.seller[1]} · {inv.seller[2]} {inv.seller[3]}"),
            _t(f"{inv.labels['iban']} {_spaced(inv.iban)} · {inv.labels['vat']} {inv.seller_vat}")]
    return _groff("\n".join(src) + "\n")


GROFF_LAYOUTS = {"groff_memo": groff_memo, "groff_letter": groff_letter}
