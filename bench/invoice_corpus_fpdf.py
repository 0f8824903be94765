"""The `dev-fpdf` set's layouts (bench/invoice_corpus.py): a fourth PDF producer, fpdf2, with embedded
TrueType fonts (DejaVu, Liberation; subset, CID-keyed), drawn cell by cell. Tuned on and fitted on.

They carry on purpose what the earlier development sets lacked and the held-out sets showed: a brand
rather than the legal name in the letterhead (the legal name only in the sender line, the footer or the
bank block), the recipient's address on the right (as French letters place it) or under a department
line, parties without labels, and amounts in the totals block that are no total (the share of labour,
a cash discount, a carried subtotal), so that the confidence model sees values that are wrong beside
the evidence that tells them apart."""
import logging
import random
from decimal import Decimal

from fpdf import FPDF
from invoice_corpus import (
    ATTENTION,
    BRANDS,
    CENT,
    ITEM_HEAD,
    Invoice,
    _address,
    _meta,
    _spaced,
    _totals,
    fmt_amount,
    fmt_date,
    fmt_rate,
)

TTF = "/usr/share/fonts/truetype"
FONT_FILES = {
    "DejaVuSans": "dejavu/DejaVuSans.ttf", "DejaVuSans-Bold": "dejavu/DejaVuSans-Bold.ttf",
    "LiberationSerif": "liberation/LiberationSerif-Regular.ttf",
    "LiberationSerif-Bold": "liberation/LiberationSerif-Bold.ttf",
    "LiberationSansNarrow": "liberation/LiberationSansNarrow-Regular.ttf",
    "LiberationSansNarrow-Bold": "liberation/LiberationSansNarrow-Bold.ttf",
    "DejaVuSerifCondensed": "dejavu/DejaVuSerifCondensed.ttf",
    "DejaVuSerifCondensed-Bold": "dejavu/DejaVuSerifCondensed-Bold.ttf",
}
WIDTH = 595.28
logging.getLogger("fontTools").setLevel(logging.WARNING)
DISCOUNT = {"de": "Bei Zahlung bis {date} abzgl. 2 % Skonto: {amount}",
            "fr": "Escompte 2 % pour paiement avant le {date} : {amount}",
            "en": "2% settlement discount if paid by {date}: {amount}"}
LABOUR = {"de": "davon Lohnanteil (§ 35a EStG)", "fr": "dont main d'œuvre", "en": "of which labour"}
CARRIED = {"de": "Übertrag Seite 1", "fr": "Report page 1", "en": "Carried forward"}
FOOTER_HEAD = {"de": ("Anschrift", "Bankverbindung", "Steuern"), "fr": ("Siège", "Banque", "Fiscalité"),
               "en": ("Registered office", "Bank", "Tax")}
OWNER = {"de": "Kontoinhaber", "fr": "Titulaire", "en": "Account name"}
# The legal name only inside a sentence of the small print, under a brand.
TRADING = {"de": "{brand} ist ein Angebot der {legal}, {street}, {city}",
           "fr": "{brand} est une marque de {legal}, {street}, {city}",
           "en": "{brand} is a trading name of {legal}, {street}, {city}"}
# Department lines no reader's vocabulary lists in full.
MORE_ATTENTION = {"de": ["Zentraleinkauf", "Eingangsrechnungen", "Werk Süd"],
                  "fr": ["Direction financière", "Pôle achats", "Site de production"],
                  "en": ["Procurement Team", "Head Office", "Goods Inwards"]}


class Pdf:
    def __init__(self, inv: Invoice):
        self.inv = inv
        self.pdf = FPDF(unit="pt", format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.add_page()
        regular, bold = inv.fonts
        self.pdf.add_font(regular, "", f"{TTF}/{FONT_FILES[regular]}")
        self.pdf.add_font(regular, "B", f"{TTF}/{FONT_FILES[bold]}")
        self.family = regular

    def text(self, x: float, y: float, s: str, size: float = 9.0, bold: bool = False, right: bool = False,
             centre: bool = False) -> None:
        """`y` is the baseline from the top of the page."""
        self.pdf.set_font(self.family, "B" if bold else "", size)
        width = self.pdf.get_string_width(s)
        if right:
            x -= width
        elif centre:
            x -= width / 2
        self.pdf.text(x, y, s)

    def cell_row(self, x: float, y: float, widths, cells, size=8.5, bold=False, border=0, aligns=None) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_xy(x, y)
        for n, (w, c) in enumerate(zip(widths, cells)):
            self.pdf.cell(w, size * 1.7, c, border=border, align=(aligns or "L" * len(cells))[n])

    def rule(self, x0, y0, x1, y1) -> None:
        self.pdf.line(x0, y0, x1, y1)

    def done(self) -> bytes:
        return bytes(self.pdf.output())


def _rng(inv: Invoice) -> random.Random:
    return random.Random(f"{inv.number}-{inv.layout}")


def _letterhead(inv: Invoice, rng: random.Random) -> str:
    brand = BRANDS.get(inv.seller[0])
    return brand if brand and rng.random() < 0.75 else inv.seller[0]


def _buyer_address(inv: Invoice, rng: random.Random) -> list[str]:
    lines = _address(inv.buyer)
    roll = rng.random()
    if roll < 0.3:
        lines.insert(0, rng.choice(ATTENTION[inv.lang]))
    elif roll < 0.45:
        lines.insert(0, rng.choice(MORE_ATTENTION[inv.lang]))
    return lines


def _trading(inv: Invoice, rng: random.Random) -> str | None:
    """Now and then the small print names the legal entity only inside a sentence under its brand."""
    brand = BRANDS.get(inv.seller[0])
    if not brand or rng.random() > 0.4:
        return None
    s = inv.seller
    return TRADING[inv.lang].format(brand=brand, legal=s[0], street=s[1], city=f"{s[2]} {s[3]}")


def _items(pg: Pdf, inv: Invoice, y: float, bordered: bool = False) -> float:
    widths = (26, 230, 45, 75, 45, 75)
    pg.cell_row(50, y, widths, ITEM_HEAD[inv.lang], bold=True, border=1 if bordered else "B", aligns="LLRRRR")
    y += 16
    for n, line in enumerate(inv.lines, 1):
        cells = (str(n), line.text, f"{line.quantity}", fmt_amount(inv, line.price),
                 f"{fmt_rate(inv, line.rate)} %", fmt_amount(inv, line.net))
        pg.cell_row(50, y, widths, cells, border=1 if bordered else 0, aligns="LLRRRR")
        y += 15
    return y + 12


def _totals_rows(inv: Invoice, rng: random.Random) -> list[tuple[str, str]]:
    """The totals with, now and then, lines that are amounts but no total."""
    rows = _totals(inv)
    if (rng.random() < 0.3 and inv.lang == "de") or rng.random() < 0.15:
        share = (inv.net * Decimal(rng.choice(["0.35", "0.5", "0.62"]))).quantize(CENT)
        rows.insert(1, (LABOUR[inv.lang], fmt_amount(inv, share, sign=True)))
    if rng.random() < 0.2:
        rows.insert(0, (CARRIED[inv.lang], fmt_amount(inv, inv.net, sign=True)))
    return rows


def _discount_line(inv: Invoice, rng: random.Random) -> str | None:
    if inv.kind == "credit_note" or rng.random() > 0.35:
        return None
    discount = (inv.due_amount * Decimal("0.02")).quantize(CENT)
    return DISCOUNT[inv.lang].format(date=fmt_date(inv, inv.due), amount=fmt_amount(inv, discount, sign=True))


def _footer_columns(pg: Pdf, inv: Invoice, rng: random.Random, y: float = 790) -> None:
    """Three columns: the legal name and address, the bank (with the account holder, sometimes), the VAT
    id; their lines stand on the same rows."""
    s = inv.seller
    heads = FOOTER_HEAD[inv.lang]
    bank = [f"{inv.labels['iban']} {_spaced(inv.iban)}", "BIC " + rng.choice(["GENODEF1M01", "BNPAFRPPXXX",
                                                                             "NWBKGB2LXXX", "COBADEFFXXX"])]
    if rng.random() < 0.5:
        bank.insert(0, f"{OWNER[inv.lang]}: {s[0]}")
    columns = [[s[0], s[1], f"{s[2]} {s[3]}"], bank, [f"{inv.labels['vat']} {inv.seller_vat}"]]
    pg.rule(50, y - 14, 545, y - 14)
    for n, (head, lines) in enumerate(zip(heads, columns)):
        x = 50 + n * 170
        pg.text(x, y, head, 6.5, bold=True)
        for k, line in enumerate(lines):
            pg.text(x, y + 9 * (k + 1), line, 6.5)


def _meta_rows(inv: Invoice) -> list[tuple[str, str]]:
    rows = _meta(inv)
    if inv.buyer_vat:
        rows.append((inv.labels["buyer_vat"], inv.buyer_vat))
    return rows


def fp_brand_letter(inv: Invoice) -> bytes:
    """A letter: the brand (or name) large at the top right, sometimes a sender line over the window, the
    buyer's address in the window without a label (perhaps under a department line), reference data in a
    block on the right, totals with lines that are no total, a discount sentence, footer in three columns
    or a sentence naming the legal entity behind the brand."""
    rng = _rng(inv)
    pg = Pdf(inv)
    pg.text(545, 70, _letterhead(inv, rng), 20, bold=True, right=True)
    pg.text(545, 86, f"{inv.seller[1]} · {inv.seller[2]} {inv.seller[3]}", 8, right=True)
    y = 150
    if rng.random() < 0.5:
        pg.text(57, 140, f"{inv.seller[0]} · {inv.seller[1]} · {inv.seller[2]} {inv.seller[3]}", 6.5)
    for line in _buyer_address(inv, rng):
        pg.text(57, y, line, 10)
        y += 13
    y = 150
    for label, value in _meta_rows(inv):
        pg.text(360, y, label, 8.5)
        pg.text(545, y, value, 8.5, right=True)
        y += 12
    pg.text(57, 280, f"{inv.title} {inv.number}" if rng.random() < 0.5 else inv.title, 14, bold=True)
    y = _items(pg, inv, 300)
    rows = _totals_rows(inv, rng)
    for n, (label, value) in enumerate(rows):
        last = n == len(rows) - 1
        pg.text(360, y, label, 9, bold=last)
        pg.text(545, y, value, 9, bold=last, right=True)
        y += 14
    if (sentence := _discount_line(inv, rng)) is not None:
        pg.text(57, y + 20, sentence, 8.5)
    if (trading := _trading(inv, rng)) is not None:
        pg.text(57, 790, trading, 6.5)
        pg.text(57, 799, f"{inv.labels['iban']} {_spaced(inv.iban)} · {inv.labels['vat']} {inv.seller_vat}", 6.5)
    else:
        _footer_columns(pg, inv, rng)
    return pg.done()


def fp_right_window(inv: Invoice) -> bytes:
    """French style: the seller's name and address at the top left without a label, the buyer's address
    block on the right (sometimes headed by an unusual label), the title and reference data under them as
    "label : value" lines, totals in a box on the left, the legal name again in a one-line footer."""
    rng = _rng(inv)
    pg = Pdf(inv)
    y = 60
    seller_lines = [_letterhead(inv, rng), inv.seller[1], f"{inv.seller[2]} {inv.seller[3]}"]
    for n, line in enumerate(seller_lines):
        pg.text(50, y, line, 13 if n == 0 else 9, bold=n == 0)
        y += 16 if n == 0 else 11
    if rng.random() < 0.6:
        pg.text(50, y + 2, f"{inv.labels['vat']} {inv.seller_vat}", 8)
    y = 130
    if rng.random() < 0.4:
        pg.text(330, y - 14, inv.labels["buyer"], 7.5, bold=True)
    for line in _buyer_address(inv, rng):
        pg.text(330, y, line, 10)
        y += 13
    pg.text(50, 245, inv.title.upper() if rng.random() < 0.4 else inv.title, 16, bold=True)
    y = 268
    sep = " : " if inv.lang == "fr" else ": "
    for label, value in _meta_rows(inv):
        pg.text(50, y, f"{label}{sep}{value}", 9)
        y += 12
    y = _items(pg, inv, y + 14, bordered=True)
    rows = _totals_rows(inv, rng)
    pg.rule(50, y - 10, 290, y - 10)
    for n, (label, value) in enumerate(rows):
        pg.text(54, y, label, 9, bold=n == len(rows) - 1)
        pg.text(286, y, value, 9, bold=n == len(rows) - 1, right=True)
        y += 14
    pg.rule(50, y - 8, 290, y - 8)
    if (sentence := _discount_line(inv, rng)) is not None:
        pg.text(50, y + 14, sentence, 8.5)
    bank = f"{inv.labels['iban']} {_spaced(inv.iban)}"
    if (trading := _trading(inv, rng)) is not None:
        pg.text(WIDTH / 2, 791, trading, 6.5, centre=True)
        pg.text(WIDTH / 2, 800, bank, 6.5, centre=True)
    else:
        pg.text(WIDTH / 2, 800, f"{inv.seller[0]} – {inv.seller[1]}, {inv.seller[2]} {inv.seller[3]} – {bank}",
                6.5, centre=True)
    if rng.random() < 0.5:
        pg.text(WIDTH / 2, 809, f"{inv.labels['vat']} {inv.seller_vat}", 6.5, centre=True)
    return pg.done()


def fp_grid(inv: Invoice) -> bytes:
    """Everything in bordered cells: a header row with the title and number, the two parties side by side
    under small labels (the seller sometimes unlabelled and brand-named), reference data as a row of cells,
    items, totals as a two-column grid with extra amount lines, bank and VAT id in a last row."""
    rng = _rng(inv)
    pg = Pdf(inv)
    pg.cell_row(50, 40, (300, 195), (inv.title, inv.number), size=13, bold=True, border=1, aligns="LR")
    parties = [("seller", inv.seller), ("buyer", inv.buyer)]
    if rng.random() < 0.5:
        parties.reverse()
    for n, (role, party) in enumerate(parties):
        x = 50 + n * 250
        labelled = role == "buyer" or rng.random() < 0.5
        if labelled:
            pg.text(x + 4, 82, inv.labels[role], 7, bold=True)
        lines = _buyer_address(inv, rng) if role == "buyer" else [_letterhead(inv, rng), *_address(party)[1:]]
        for k, line in enumerate(lines):
            pg.text(x + 4, 96 + 12 * k, line, 9.5, bold=k == 0 and role == "seller")
    meta = _meta_rows(inv)[:4]
    widths = [495 / len(meta)] * len(meta)
    pg.cell_row(50, 160, widths, [m[0] for m in meta], size=7, bold=True, border="LTR")
    pg.cell_row(50, 172, widths, [m[1] for m in meta], size=9, border="LBR")
    y = _items(pg, inv, 205, bordered=True)
    for label, value in _totals_rows(inv, rng):
        pg.cell_row(300, y, (150, 95), (label, value), size=9, border=1, aligns="LR")
        y += 16
    if (sentence := _discount_line(inv, rng)) is not None:
        pg.text(50, y + 16, sentence, 8.5)
    trading = _trading(inv, rng)
    pg.cell_row(50, 780, (165, 165, 165), (inv.seller[0] if trading is None else "",
                                           f"{inv.labels['iban']} {_spaced(inv.iban)}",
                                           f"{inv.labels['vat']} {inv.seller_vat}"), size=6.5, border="T")
    if trading is not None:
        pg.text(50, 805, trading, 6.5)
    return pg.done()


FPDF_LAYOUTS = {"fp_brand_letter": fp_brand_letter, "fp_right_window": fp_right_window, "fp_grid": fp_grid}
