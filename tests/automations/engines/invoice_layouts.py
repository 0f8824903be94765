"""Plain-PDF invoices in layouts unlike the FeRD samples, for the text reader's tests.

The FeRD samples share one rendering; invoices from other producers look different: DIN letters with the
reference data in a table, English invoices with English number formats, credit notes, partial invoices
with prepayments, totals on a second page, German long dates, VAT ids of both parties. Each layout is
rendered with reportlab from seeded random data, and `expected` gives the fields a reader should find."""
import io
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

SELLERS = [
    ("Schreinerei Holzmann GmbH", "Sägewerkstraße 8", "87435", "Kempten"),
    ("Nordlicht Veranstaltungstechnik UG", "Hafenweg 31", "24103", "Kiel"),
    ("Bäckerei Krume OHG", "Marktplatz 2", "96047", "Bamberg"),
    ("Grafikbüro Weißraum", "Atelierhof 5", "10997", "Berlin"),
    ("Spedition Kettler & Partner KG", "Logistikring 14", "44147", "Dortmund"),
    ("Medizintechnik Albers AG", "Forschungsallee 3", "91058", "Erlangen"),
    ("Alpenblick Hotelbetriebs GmbH", "Seestraße 40", "83209", "Prien am Chiemsee"),
    ("Ingenieurbüro Dr. Lenz", "Brückenstraße 77", "01097", "Dresden"),
]
BUYERS = [
    ("Muster GmbH", "Hauptstraße 12", "70173", "Stuttgart"),
    ("Beispiel Maschinenbau AG", "Werkstraße 1", "73430", "Aalen"),
    ("Kanzlei Roth & Vogel", "Domplatz 9", "48143", "Münster"),
    ("Stadtwerke Musterhausen GmbH", "Energieweg 2", "34119", "Kassel"),
]
ITEMS = ["Beratung (Stunden)", "Montagematerial", "Wartungspauschale", "Software-Lizenz", "Transportkosten",
         "Reinigungsmittel", "Schulung vor Ort", "Ersatzteil Typ B", "Miete Gerät", "Fahrtkosten"]
MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
CENT = Decimal("0.01")


def _iban(rng: random.Random) -> str:
    bban = f"{rng.randrange(10**7, 10**8)}{rng.randrange(10**9, 10**10)}"
    n = int("".join(str(int(c, 36)) for c in bban + "DE00"))
    return f"DE{98 - n % 97:02d}{bban}"


@dataclass
class Case:
    layout: str
    pdf: bytes
    expected: dict = field(default_factory=dict)


def _amount_de(value: Decimal, thousands=".") -> str:
    text = f"{value:,.2f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", thousands)


def _amount_en(value: Decimal) -> str:
    return f"{value:,.2f}"


class Invoice:
    def __init__(self, rng: random.Random, *, rates=(19,), lines=None):
        self.seller = rng.choice(SELLERS)
        self.buyer = rng.choice(BUYERS)
        self.vat = f"DE{rng.randrange(10**8, 10**9)}"
        self.buyer_vat = f"DE{rng.randrange(10**8, 10**9)}"
        self.iban = _iban(rng)
        self.number = rng.choice(["RE-{y}-{n:04d}", "{y}{n:05d}", "R{n}", "{y}/{n}", "INV-{y}-{n:04d}"]).format(
            y=rng.choice([2024, 2025, 2026]), n=rng.randrange(1, 9999))
        self.date = (rng.choice([2024, 2025, 2026]), rng.randrange(1, 13), rng.randrange(1, 29))
        self.lines = []
        for _ in range(lines or rng.randrange(1, 6)):
            qty = Decimal(rng.randrange(1, 40))
            price = (Decimal(rng.randrange(150, 250000)) / 100).quantize(CENT)
            self.lines.append((rng.choice(ITEMS), qty, price, rng.choice(rates)))
        self.net = sum(((q * p).quantize(CENT, ROUND_HALF_UP) for _d, q, p, _r in self.lines), Decimal("0.00"))
        self.taxes = {}
        for _d, q, p, r in self.lines:
            self.taxes[r] = self.taxes.get(r, Decimal("0")) + (q * p).quantize(CENT, ROUND_HALF_UP)
        self.taxes = {r: (b * r / 100).quantize(CENT, ROUND_HALF_UP) for r, b in sorted(self.taxes.items())}
        self.tax = sum(self.taxes.values(), Decimal("0.00"))
        self.gross = self.net + self.tax

    @property
    def iso(self) -> str:
        y, m, d = self.date
        return f"{y:04d}-{m:02d}-{d:02d}"

    def de_date(self) -> str:
        y, m, d = self.date
        return f"{d:02d}.{m:02d}.{y}"

    def expected(self, **overrides) -> dict:
        out = {"invoice_number": self.number, "document_type": "invoice", "issue_date": self.iso,
               "seller_name": self.seller[0], "seller_vat_id": self.vat, "buyer_name": self.buyer[0],
               "net_total": str(self.net), "tax_total": str(self.tax), "gross_total": str(self.gross),
               "amount_due": str(self.gross), "currency": "EUR", "iban": self.iban}
        out.update(overrides)
        return {k: v for k, v in out.items() if v is not None}


def _canvas():
    buf = io.BytesIO()
    return buf, canvas.Canvas(buf, pagesize=A4, invariant=1)


def _t(c, x, y, text, size=9, bold=False):
    c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
    c.drawString(x, y, text)


def _r(c, x, y, text, size=9, bold=False):
    c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
    c.drawRightString(x, y, text)


def _items(c, inv, y, fmt=_amount_de, header=("Pos", "Artikel", "Menge", "Preis", "Betrag")):
    for x, h in zip((50, 80, 330, 420, 540), header):
        (_r if x > 300 else _t)(c, x, y, h, bold=True)
    y -= 16
    for i, (desc, q, p, _rate) in enumerate(inv.lines, 1):
        _t(c, 50, y, str(i))
        _t(c, 80, y, desc)
        _r(c, 330, y, str(q))
        _r(c, 420, y, fmt(p))
        _r(c, 540, y, fmt((q * p).quantize(CENT, ROUND_HALF_UP)))
        y -= 14
    return y - 10


def din_table(rng) -> Case:
    """DIN letter whose references stand in a table: headings in one row, values in the row below."""
    inv = Invoice(rng, rates=(19, 7))
    buf, c = _canvas()
    s, b = inv.seller, inv.buyer
    _t(c, 50, 800, s[0], 16, True)
    _t(c, 50, 730, f"{s[0]} | {s[1]} | {s[2]} {s[3]}", 6.5)
    for i, line in enumerate([b[0], b[1], f"{b[2]} {b[3]}"]):
        _t(c, 50, 710 - 12 * i, line, 10)
    _t(c, 50, 620, "Rechnung", 14, True)
    for x, (h, v) in zip((50, 170, 290, 410), [("Rechnungs-Nr.", inv.number), ("Datum", inv.de_date()),
                                                ("Kunden-Nr.", "47110"), ("Ihre USt-IdNr.", inv.buyer_vat)]):
        _t(c, x, 595, h, 8, True)
        _t(c, x, 583, v, 9)
    y = _items(c, inv, 550)
    _t(c, 330, y, "Gesamt netto")
    _r(c, 540, y, _amount_de(inv.net) + " €")
    for rate, tax in inv.taxes.items():
        y -= 13
        _t(c, 330, y, f"USt {rate}%")
        _r(c, 540, y, _amount_de(tax) + " €")
    y -= 15
    _t(c, 330, y, "Gesamt brutto", bold=True)
    _r(c, 540, y, _amount_de(inv.gross) + " €", bold=True)
    _t(c, 50, y - 40, "Zahlbar innerhalb von 14 Tagen ohne Abzug.")
    c.line(50, 90, 545, 90)
    _t(c, 50, 78, f"Sitz: {s[3]}", 7)
    _t(c, 50, 69, "Geschäftsführer: Anna Probe", 7)
    _t(c, 200, 78, "Bankverbindung: Demobank eG", 7)
    iban = " ".join(inv.iban[i:i + 4] for i in range(0, len(inv.iban), 4))
    _t(c, 200, 69, f"IBAN {iban}", 7)
    _t(c, 400, 78, f"USt-ID: {inv.vat}", 7)
    _t(c, 400, 69, "HRB 4711, AG Musterstadt", 7)
    c.showPage()
    c.save()
    return Case("din_table", buf.getvalue(), inv.expected())


def english(rng) -> Case:
    """An English invoice with English number and date formats."""
    inv = Invoice(rng, rates=(19,))
    buf, c = _canvas()
    s, b = inv.seller, inv.buyer
    y, m, d = inv.date
    _r(c, 545, 800, "INVOICE", 20, True)
    _t(c, 50, 800, s[0], 13, True)
    _t(c, 50, 786, f"{s[1]}, {s[2]} {s[3]}, Germany", 8)
    _t(c, 50, 740, "Bill To:", 9, True)
    for i, line in enumerate([b[0], b[1], f"{b[2]} {b[3]}"]):
        _t(c, 50, 726 - 12 * i, line)
    _t(c, 350, 740, "Invoice No.:")
    _r(c, 545, 740, inv.number)
    _t(c, 350, 726, "Invoice Date:")
    _r(c, 545, 726, f"{MONTHS_EN[m - 1]} {d}, {y}")
    _t(c, 350, 712, "Due Date:")
    _r(c, 545, 712, f"{MONTHS_EN[(m % 12)]} {d}, {y + (m == 12)}")
    yy = _items(c, inv, 660, _amount_en, ("#", "Description", "Qty", "Unit price", "Amount"))
    _t(c, 350, yy, "Subtotal")
    _r(c, 545, yy, "EUR " + _amount_en(inv.net))
    _t(c, 350, yy - 14, "VAT 19%")
    _r(c, 545, yy - 14, "EUR " + _amount_en(inv.tax))
    _t(c, 350, yy - 30, "Total", bold=True)
    _r(c, 545, yy - 30, "EUR " + _amount_en(inv.gross), bold=True)
    _t(c, 50, yy - 70, "Payment: bank transfer within 30 days.")
    _t(c, 50, yy - 82, f"IBAN: {inv.iban}   BIC: DEMODEXXXXX")
    _t(c, 50, 60, f"{s[0]} - VAT ID: {inv.vat} - Managing director: J. Sample", 7)
    c.showPage()
    c.save()
    return Case("english", buf.getvalue(), inv.expected())


def craftsman_two_pages(rng) -> Case:
    """A craftsman's invoice: title with number and date in one line, many items, totals on page two."""
    inv = Invoice(rng, rates=(19,), lines=rng.randrange(28, 40))
    buf, c = _canvas()
    s, b = inv.seller, inv.buyer
    y, m, d = inv.date
    _t(c, 300, 800, s[0], 14, True)
    _t(c, 300, 786, f"Inh. Max Meister · {s[1]} · {s[2]} {s[3]}", 7)
    _t(c, 60, 735, f"{s[0]}, {s[1]}, {s[2]} {s[3]}", 6)
    _t(c, 60, 718, "Firma")
    for i, line in enumerate([b[0], b[1], f"{b[2]} {b[3]}"]):
        _t(c, 60, 705 - 12 * i, line)
    _t(c, 60, 630, f"Rechnung Nr. {inv.number} vom {d}. {MONTHS_DE[m - 1]} {y}", 12, True)
    yy = 600
    _t(c, 60, yy, "Pos", bold=True)
    _t(c, 100, yy, "Leistung", bold=True)
    _r(c, 540, yy, "Betrag", bold=True)
    yy -= 15
    for i, (desc, q, p, _rate) in enumerate(inv.lines, 1):
        if yy < 80:
            _t(c, 60, 50, "Übertrag auf Seite 2", 7)
            c.showPage()
            yy = 780
        _t(c, 60, yy, str(i))
        _t(c, 100, yy, f"{q} x {desc} à {_amount_de(p)} €")
        _r(c, 540, yy, _amount_de((q * p).quantize(CENT, ROUND_HALF_UP)) + " €")
        yy -= 14
    yy -= 10
    _t(c, 330, yy, "Nettobetrag")
    _r(c, 540, yy, _amount_de(inv.net, thousands=" ") + " €")
    _t(c, 330, yy - 14, "19 % MwSt.")
    _r(c, 540, yy - 14, _amount_de(inv.tax, thousands=" ") + " €")
    _t(c, 330, yy - 30, "Rechnungsbetrag", bold=True)
    _r(c, 540, yy - 30, _amount_de(inv.gross, thousands=" ") + " €", bold=True)
    _t(c, 60, yy - 70, f"Bitte überweisen Sie den Betrag auf unser Konto IBAN {inv.iban} bei der Demobank.")
    _t(c, 60, 60, f"Steuernummer 123/456/78901 · USt-IdNr. {inv.vat}", 7)
    c.showPage()
    c.save()
    return Case("craftsman_two_pages", buf.getvalue(), inv.expected())


def credit_note(rng) -> Case:
    """A credit note (Gutschrift) with its own number label."""
    inv = Invoice(rng, rates=(19,), lines=rng.randrange(1, 3))
    buf, c = _canvas()
    s, b = inv.seller, inv.buyer
    _t(c, 50, 800, s[0], 15, True)
    _t(c, 50, 730, f"{s[0]} · {s[1]} · {s[2]} {s[3]}", 7)
    for i, line in enumerate([b[0], b[1], f"{b[2]} {b[3]}"]):
        _t(c, 50, 712 - 12 * i, line, 10)
    _t(c, 360, 712, "Gutschrift-Nr.:")
    _r(c, 545, 712, inv.number)
    _t(c, 360, 698, "Datum:")
    _r(c, 545, 698, inv.de_date())
    _t(c, 50, 630, "Gutschrift", 14, True)
    _t(c, 50, 612, "Wir schreiben Ihnen für die Rücksendung folgende Beträge gut:")
    yy = _items(c, inv, 585)
    _t(c, 330, yy, "Summe netto")
    _r(c, 540, yy, _amount_de(inv.net) + " EUR")
    _t(c, 330, yy - 14, "zzgl. 19% MwSt.")
    _r(c, 540, yy - 14, _amount_de(inv.tax) + " EUR")
    _t(c, 330, yy - 30, "Gutschriftsbetrag", bold=True)
    _r(c, 540, yy - 30, _amount_de(inv.gross) + " EUR", bold=True)
    _t(c, 50, yy - 60, "Der Betrag wird Ihrem Konto gutgeschrieben.")
    _t(c, 50, 60, f"{s[0]} | USt-IdNr.: {inv.vat} | IBAN: {inv.iban}", 7)
    c.showPage()
    c.save()
    return Case("credit_note", buf.getvalue(), inv.expected(document_type="credit_note"))


def partial_with_prepayment(rng) -> Case:
    """An Abschlagsrechnung: totals, less a prepayment, leave a smaller amount due."""
    inv = Invoice(rng, rates=(19,), lines=rng.randrange(2, 5))
    prepaid = (inv.gross * Decimal("0.3")).quantize(CENT, ROUND_HALF_UP)
    due = inv.gross - prepaid
    buf, c = _canvas()
    s, b = inv.seller, inv.buyer
    _t(c, 50, 805, s[0], 15, True)
    _t(c, 50, 792, f"{s[1]} - {s[2]} {s[3]}", 8)
    _t(c, 50, 740, "Rechnungsempfänger:", 8, True)
    for i, line in enumerate([b[0], b[1], f"{b[2]} {b[3]}"]):
        _t(c, 50, 727 - 12 * i, line, 10)
    _t(c, 50, 650, "2. Abschlagsrechnung", 14, True)
    _t(c, 50, 630, f"Rechnungsnummer: {inv.number}")
    _t(c, 300, 630, f"Rechnungsdatum: {inv.de_date()}")
    yy = _items(c, inv, 600)
    rows = [("Nettosumme", inv.net), ("Umsatzsteuer 19 %", inv.tax), ("Bruttosumme", inv.gross),
            ("abzüglich geleistete Anzahlung", -prepaid), ("Zu zahlender Betrag", due)]
    for label, value in rows:
        _t(c, 300, yy, label, bold=label.startswith("Zu"))
        _r(c, 540, yy, _amount_de(value) + " €", bold=label.startswith("Zu"))
        yy -= 14
    _t(c, 50, yy - 30, f"Bankverbindung: IBAN {inv.iban}")
    _t(c, 50, yy - 42, f"USt-IdNr. {inv.vat}")
    c.showPage()
    c.save()
    return Case("partial_with_prepayment", buf.getvalue(), inv.expected(document_type="partial", amount_due=str(due)))


def correction_negative(rng) -> Case:
    """A Rechnungskorrektur with negative amounts."""
    inv = Invoice(rng, rates=(19,), lines=1)
    buf, c = _canvas()
    s, b = inv.seller, inv.buyer
    _t(c, 50, 800, s[0], 14, True)
    _t(c, 50, 740, "Kunde", 8, True)
    for i, line in enumerate([b[0], b[1], f"{b[2]} {b[3]}"]):
        _t(c, 50, 727 - 12 * i, line, 10)
    _t(c, 50, 660, "Rechnungskorrektur zu Rechnung 2024-0001", 13, True)
    _t(c, 50, 640, f"Beleg-Nr.: {inv.number}")
    _t(c, 250, 640, f"Belegdatum: {inv.de_date()}")
    yy = 600
    _t(c, 300, yy, "Netto")
    _r(c, 540, yy, "-" + _amount_de(inv.net) + " €")
    _t(c, 300, yy - 14, "USt. 19 %")
    _r(c, 540, yy - 14, "-" + _amount_de(inv.tax) + " €")
    _t(c, 300, yy - 30, "Gesamtbetrag", bold=True)
    _r(c, 540, yy - 30, "-" + _amount_de(inv.gross) + " €", bold=True)
    _t(c, 50, 80, f"{s[0]} · {s[1]} · {s[2]} {s[3]}", 7)
    _t(c, 50, 70, f"USt-IdNr.: {inv.vat} · IBAN: {inv.iban}", 7)
    c.showPage()
    c.save()
    exp = inv.expected(document_type="correction", net_total=str(-inv.net), tax_total=str(-inv.tax),
                       gross_total=str(-inv.gross), amount_due=str(-inv.gross))
    return Case("correction_negative", buf.getvalue(), exp)


LAYOUTS = [din_table, english, craftsman_two_pages, credit_note, partial_with_prepayment, correction_negative]


def gross_inclusive(rng) -> Case:
    """A small-amount invoice quoting gross prices: the tax is only "contained", the net is not printed."""
    inv = Invoice(rng, rates=(19,), lines=rng.randrange(1, 4))
    buf, c = _canvas()
    s, b = inv.seller, inv.buyer
    _t(c, 50, 805, s[0], 16, True)
    _t(c, 50, 790, f"{s[1]} · {s[2]} {s[3]} · Tel. 0123 456789", 8)
    _t(c, 50, 745, f"Rechnung Nr. {inv.number}  ·  Datum: {inv.de_date()}", 11, True)
    _t(c, 50, 725, f"Kunde: {b[0]}, {b[1]}, {b[2]} {b[3]}")
    yy = 690
    for desc, q, p, _rate in inv.lines:
        gross_line = ((q * p) * Decimal("1.19")).quantize(CENT, ROUND_HALF_UP)
        _t(c, 50, yy, f"{q} x {desc}")
        _r(c, 540, yy, _amount_de(gross_line) + " €")
        yy -= 14
    gross = sum((((q * p) * Decimal("1.19")).quantize(CENT, ROUND_HALF_UP) for _d, q, p, _r in inv.lines),
                Decimal("0.00"))
    tax = (gross * 19 / 119).quantize(CENT, ROUND_HALF_UP)
    _t(c, 300, yy - 10, "Gesamtbetrag", bold=True)
    _r(c, 540, yy - 10, _amount_de(gross) + " €", bold=True)
    _t(c, 300, yy - 24, "darin enthaltene MwSt. 19 %")
    _r(c, 540, yy - 24, _amount_de(tax) + " €")
    _t(c, 50, 70, f"{s[0]} · USt-IdNr. {inv.vat} · IBAN {inv.iban}", 7)
    c.showPage()
    c.save()
    return Case("gross_inclusive", buf.getvalue(), inv.expected(net_total=str(gross - tax), tax_total=str(tax),
                                                                gross_total=str(gross), amount_due=str(gross)))


def small_business(rng) -> Case:
    """A small business under section 19 UStG: no VAT charged, no VAT id, a tax number instead."""
    inv = Invoice(rng, rates=(0,), lines=rng.randrange(1, 4))
    buf, c = _canvas()
    s, b = inv.seller, inv.buyer
    _t(c, 350, 800, s[0], 13, True)
    _t(c, 350, 787, s[1], 8)
    _t(c, 350, 777, f"{s[2]} {s[3]}", 8)
    _t(c, 60, 740, f"{s[0]} - {s[1]} - {s[2]} {s[3]}", 6)
    for i, line in enumerate([b[0], b[1], f"{b[2]} {b[3]}"]):
        _t(c, 60, 725 - 12 * i, line, 10)
    _t(c, 350, 700, "Rechnungsnummer")
    _r(c, 545, 700, inv.number)
    _t(c, 350, 686, "Rechnungsdatum")
    _r(c, 545, 686, inv.de_date())
    _t(c, 60, 630, "RECHNUNG", 16, True)
    yy = _items(c, inv, 600)
    _t(c, 330, yy, "Gesamtbetrag", bold=True)
    _r(c, 540, yy, _amount_de(inv.net) + " €", bold=True)
    _t(c, 60, yy - 30, "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.")
    _t(c, 60, yy - 44, f"Bitte überweisen Sie den Betrag auf folgendes Konto: IBAN {inv.iban}")
    _t(c, 60, 60, "Steuernummer: 12/345/67890", 7)
    c.showPage()
    c.save()
    return Case("small_business", buf.getvalue(),
                inv.expected(seller_vat_id=None, tax_total="0.00", gross_total=str(inv.net), amount_due=str(inv.net)))


def window_without_sender(rng) -> Case:
    """No sender line over the window, the letterhead is a logo (no text): the name stands in the footer."""
    inv = Invoice(rng, rates=(19,), lines=rng.randrange(1, 4))
    buf, c = _canvas()
    s, b = inv.seller, inv.buyer
    c.rect(50, 780, 120, 40, stroke=1, fill=0)  # the logo's frame
    for i, line in enumerate([b[0], "z. Hd. Frau Beispiel", b[1], f"{b[2]} {b[3]}"]):
        _t(c, 60, 700 - 12 * i, line, 10)
    for i, (label, value) in enumerate([("Rechnungsnr.", inv.number), ("Datum", inv.de_date()),
                                        ("Ihr Zeichen", "EK/22"), ("Ihre USt-IdNr.", inv.buyer_vat)]):
        _t(c, 360, 700 - 13 * i, label)
        _t(c, 450, 700 - 13 * i, value)
    _t(c, 60, 610, f"Rechnung {inv.number}", 13, True)
    yy = _items(c, inv, 580)
    _t(c, 330, yy, "Nettobetrag")
    _r(c, 540, yy, _amount_de(inv.net) + " €")
    _t(c, 330, yy - 14, "zzgl. Umsatzsteuer 19 %")
    _r(c, 540, yy - 14, _amount_de(inv.tax) + " €")
    _t(c, 330, yy - 30, "Bruttobetrag", bold=True)
    _r(c, 540, yy - 30, _amount_de(inv.gross) + " €", bold=True)
    c.line(50, 95, 545, 95)
    name = s[0] if LEGAL.search(s[0]) else s[0] + " GmbH"
    _t(c, 50, 83, name, 7)
    _t(c, 50, 74, f"{s[1]}, {s[2]} {s[3]}", 7)
    _t(c, 220, 83, f"IBAN: {inv.iban}", 7)
    _t(c, 380, 83, f"USt-IdNr.: {inv.vat}", 7)
    c.showPage()
    c.save()
    return Case("window_without_sender", buf.getvalue(), inv.expected(seller_name=name))


LEGAL = __import__("re").compile(r"GmbH|AG\b|KG\b|UG\b|OHG\b")
LAYOUTS += [gross_inclusive, small_business, window_without_sender]


def flowing_tables(rng) -> Case:
    """Laid out by reportlab's flowables: a title paragraph as letterhead, address and reference data side
    by side in one table, a gridded item table, totals right-aligned, bank details in running text."""
    from reportlab.lib import colors
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    inv = Invoice(rng, rates=(19, 7))
    s, b = inv.seller, inv.buyer
    y, m, d = inv.date
    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, invariant=1)
    story = [Paragraph(f"<b>{s[0]}</b>", styles["Title"]),
             Paragraph(f"{s[1]} · {s[2]} {s[3]} · info@example.org", styles["Normal"]), Spacer(1, 20),
             Table([["Rechnungsempfänger", "Rechnungsdetails", ""], [b[0], "Rechnungsnummer", inv.number],
                    [b[1], "Rechnungsdatum", f"{d}. {MONTHS_DE[m - 1]} {y}"],
                    [f"{b[2]} {b[3]}", "Kundennummer", "D-20991"]],
                   colWidths=[220, 120, 120]),
             Spacer(1, 20), Paragraph("Rechnung", styles["Heading1"])]
    rows = [["Pos.", "Beschreibung", "Menge", "Einzelpreis", "Gesamtpreis"]]
    for i, (desc, q, p, rate) in enumerate(inv.lines, 1):
        rows.append([str(i), f"{desc} ({rate} %)", str(q), _amount_de(p) + " €",
                     _amount_de((q * p).quantize(CENT, ROUND_HALF_UP)) + " €"])
    table = Table(rows)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
    totals = [["Zwischensumme", _amount_de(inv.net) + " €"]]
    totals += [[f"Umsatzsteuer {rate} %", _amount_de(tax) + " €"] for rate, tax in inv.taxes.items()]
    totals.append(["Gesamtbetrag", _amount_de(inv.gross) + " €"])
    story += [table, Spacer(1, 10), Table(totals, colWidths=[250, 100], hAlign="RIGHT"), Spacer(1, 20),
              Paragraph(f"Bitte überweisen Sie den Gesamtbetrag innerhalb von 14 Tagen auf unser Konto bei der "
                        f"Demobank, IBAN {inv.iban}, BIC DEMODEXXXXX. Steuernummer 88001/12345, USt-IdNr. {inv.vat}.",
                        styles["Normal"])]
    doc.build(story)
    return Case("flowing_tables", buf.getvalue(), inv.expected())


LAYOUTS.append(flowing_tables)


def cases(seed: int = 7, per_layout: int = 4) -> list[Case]:
    rng = random.Random(seed)
    return [layout(rng) for _ in range(per_layout) for layout in LAYOUTS]
