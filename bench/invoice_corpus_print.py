"""The `print` set's layouts (bench/invoice_corpus.py): a sixth way of producing invoices, HTML invoices
printed by headless Chromium's own print-to-PDF (`chromium --headless --print-to-pdf`, Debian's package,
one process per invoice, no network), in fonts no other set uses (URW Gothic, C059, Nimbus Sans Narrow,
URW Bookman, P052) and five layouts written with CSS grid, flex `order`, floats, one wide table and dotted
leaders, whose header blocks come in random orders. Written after the reader and its confidence model were
frozen for the fourth round and measured once: never tuned on, never fitted on."""
import random
import subprocess
import tempfile
from pathlib import Path

from invoice_corpus import (
    ATTENTION,
    BRANDS,
    ITEM_HEAD,
    Invoice,
    _address,
    _h,
    _meta,
    _spaced,
    _totals,
    fmt_amount,
    fmt_date,
    fmt_rate,
)

CHROMIUM = ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--no-pdf-header-footer",
            "--host-resolver-rules=MAP * ~NOTFOUND"]
DELIVERY = {"de": "Lieferanschrift", "fr": "Adresse de livraison", "en": "Ship to"}
THANKS = {"de": "Bitte überweisen Sie den Betrag unter Angabe der Rechnungsnummer.",
          "fr": "Merci de rappeler le numéro de facture lors de votre règlement.",
          "en": "Please quote the invoice number with your payment."}
BANK = {"de": "Bankverbindung", "fr": "Coordonnées bancaires", "en": "Bank details"}
PAGE = {"de": "Seite 1 von 1", "fr": "Page 1 sur 1", "en": "Page 1 of 1"}


def print_to_pdf(html: str) -> bytes:
    """The page printed by Chromium's command line, as a user or a server script would call it."""
    with tempfile.TemporaryDirectory() as folder:
        src, out = Path(folder) / "invoice.html", Path(folder) / "invoice.pdf"
        src.write_text(html, encoding="utf-8")
        subprocess.run([*CHROMIUM, f"--user-data-dir={folder}/profile", f"--print-to-pdf={out}", src.as_uri()],
                       capture_output=True, check=True, timeout=120)
        return out.read_bytes()


def _page(inv: Invoice, rng: random.Random, css: str, body: str) -> str:
    size = rng.choice(["8.5pt", "9pt", "9.5pt", "10pt"])
    return f"""<!doctype html><html lang="{inv.lang}"><head><meta charset="utf-8"><title>{_h(inv.title)}</title>
<style>@page {{ size: A4; margin: {rng.choice(['12mm', '15mm', '20mm 18mm'])}; }}
body {{ font-family: '{inv.fonts[0]}'; font-size: {size}; color: #1a1a1a; margin: 0; }}
table {{ border-collapse: collapse; }} .r {{ text-align: right; }} .muted {{ color: #666; font-size: 0.85em; }}
.items {{ width: 100%; margin: 12pt 0; }}
.items th {{ text-align: left; padding: 3pt 4pt; border-bottom: 1.2pt solid #333; }}
.items td {{ padding: 3pt 4pt; border-bottom: 0.4pt solid #ddd; }}
{css}</style></head><body>{body}</body></html>"""


def _items(inv: Invoice, rng: random.Random) -> str:
    head = ITEM_HEAD[inv.lang]
    cols = [0, 1, 2, 3, 4, 5] if rng.random() < 0.6 else [1, 2, 3, 5]
    ths = "".join(f"<th{' class=r' if c > 1 else ''}>{_h(head[c])}</th>" for c in cols)
    body = []
    for n, line in enumerate(inv.lines, 1):
        cells = [str(n), _h(line.text), str(line.quantity), _h(fmt_amount(inv, line.price)),
                 f"{_h(fmt_rate(inv, line.rate))} %", _h(fmt_amount(inv, line.net))]
        body.append("<tr>" + "".join(f"<td{' class=r' if c > 1 else ''}>{cells[c]}</td>" for c in cols) + "</tr>")
    return f"<table class=items><thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _buyer(inv: Invoice, rng: random.Random, vat: bool = True) -> list[str]:
    lines = _address(inv.buyer)
    if rng.random() < 0.25:
        lines.insert(0 if rng.random() < 0.5 else 1, rng.choice(ATTENTION[inv.lang]))
    if vat and inv.buyer_vat:
        lines.append(f"{inv.labels['buyer_vat']}: {inv.buyer_vat}")
    return lines


def _seller_name(inv: Invoice, rng: random.Random) -> str:
    brand = BRANDS.get(inv.seller[0])
    return brand if brand and rng.random() < 0.6 else inv.seller[0]


def _footer(inv: Invoice) -> str:
    s = inv.seller
    return (f"<div class=foot><div>{_h(s[0])}<br>{_h(s[1])}<br>{_h(s[2])} {_h(s[3])}</div>"
            f"<div>{_h(inv.labels['vat'])}: {_h(inv.seller_vat)}</div>"
            f"<div>{_h(BANK[inv.lang])}<br>{_h(inv.labels['iban'])}: {_h(_spaced(inv.iban))}</div></div>")


def _totals_rows(inv: Invoice, leader: bool = False) -> str:
    rows = _totals(inv)
    cls = "lead" if leader else "tot"
    return "".join(f"<div class='{cls}{' last' if n == len(rows) - 1 else ''}'><span>{_h(label)}</span>"
                   f"<span>{_h(value)}</span></div>" for n, (label, value) in enumerate(rows))


def print_grid(inv: Invoice) -> str:
    """A CSS grid of header blocks (seller, buyer, reference data as a definition list, title) whose
    visual order is shuffled with `order`; items; totals as a grid at the right; a three-column footer."""
    rng = random.Random(f"{inv.number}-{inv.layout}")
    seller = "<br>".join(_h(x) for x in [_seller_name(inv, rng), *_address(inv.seller)[1:]])
    buyer = "<br>".join(_h(x) for x in _buyer(inv, rng))
    meta = "".join(f"<dt>{_h(label)}</dt><dd>{_h(value)}</dd>" for label, value in _meta(inv))
    blocks = [f"<div class=blk><div class=lbl>{_h(inv.labels['seller'])}</div>{seller}</div>",
              f"<div class=blk><div class=lbl>{_h(inv.labels['buyer'])}</div>{buyer}</div>",
              f"<div class=blk><dl>{meta}</dl></div>"]
    order = list(range(3))
    rng.shuffle(order)
    header = "".join(f"<div style='order:{o}'>{b}</div>" for b, o in zip(blocks, order))
    css = """.hdr { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 10pt; margin-top: 14pt; }
.lbl { font-size: 0.75em; text-transform: uppercase; letter-spacing: 0.08em; color: #777; margin-bottom: 2pt; }
dl { display: grid; grid-template-columns: auto auto; gap: 1pt 8pt; margin: 0; } dd { margin: 0; text-align: right; }
h1 { font-weight: 300; font-size: 24pt; margin: 0; letter-spacing: 0.04em; }
.tots { width: 45%; margin-left: auto; } .tot { display: flex; justify-content: space-between; padding: 2pt 0; }
.tot.last { font-weight: bold; border-top: 1pt solid #000; }
.foot { display: grid; grid-template-columns: 1fr 1fr 1fr; font-size: 0.75em; color: #555; margin-top: 30pt;
border-top: 0.5pt solid #999; padding-top: 4pt; }"""
    return _page(inv, rng, css, f"""<h1>{_h(inv.title)}</h1><div class=hdr>{header}</div>
{_items(inv, rng)}<div class=tots>{_totals_rows(inv)}</div><p class=muted>{_h(THANKS[inv.lang])}</p>{_footer(inv)}""")


def print_stripe(inv: Invoice) -> str:
    """A coloured band across the top with the title in white and the seller's name and address at its
    right; under it the buyer's address, sometimes a delivery address beside it, and the reference data
    as a row of label-over-value cells; totals in a shaded box."""
    rng = random.Random(f"{inv.number}-{inv.layout}")
    colour = rng.choice(["#1f4e79", "#7a1f3d", "#2d5d34", "#333333"])
    seller = "<br>".join(_h(x) for x in [_seller_name(inv, rng), *_address(inv.seller)[1:]])
    buyer = "<br>".join(_h(x) for x in _buyer(inv, rng))
    addresses = [f"<div><div class=lbl>{_h(inv.labels['buyer'])}</div>{buyer}</div>"]
    if rng.random() < 0.4:
        b = inv.buyer
        addresses.append(f"<div><div class=lbl>{_h(DELIVERY[inv.lang])}</div>{_h(b[0])}<br>"
                         f"{_h(rng.choice(['Lager', 'Werk 2', 'Dépôt', 'Warehouse']))}<br>{_h(b[2])} {_h(b[3])}</div>")
    cells = "".join(f"<div class=cell><div class=lbl>{_h(label)}</div>{_h(value)}</div>" for label, value in _meta(inv))
    css = f""".band {{ background: {colour}; color: #fff; display: flex; justify-content: space-between;
align-items: center; padding: 12pt 14pt; }} .band h1 {{ margin: 0; font-size: 22pt; }} .band .s {{ text-align: right; }}
.lbl {{ font-size: 0.72em; font-weight: bold; text-transform: uppercase; color: {colour}; }}
.addr {{ display: flex; gap: 40pt; margin: 16pt 0 10pt; }} .cells {{ display: flex; gap: 18pt; flex-wrap: wrap; }}
.box {{ background: #eee; width: 48%; margin-left: auto; padding: 6pt 10pt; }}
.tot {{ display: flex; justify-content: space-between; padding: 1.5pt 0; }}
.tot.last {{ font-weight: bold; font-size: 1.15em; }}
.foot {{ display: flex; justify-content: space-between; font-size: 0.72em; margin-top: 28pt; color: #444; }}"""
    return _page(inv, rng, css, f"""<div class=band><h1>{_h(inv.title)}</h1><div class=s>{seller}</div></div>
<div class=addr>{''.join(addresses)}</div><div class=cells>{cells}</div>
{_items(inv, rng)}<div class=box>{_totals_rows(inv)}</div>{_footer(inv)}""")


def print_floats(inv: Invoice) -> str:
    """A classic letter laid out with floats: the seller's block floated right, the sender line and the
    buyer's address at the left, the reference data as one inline line of "label: value" pairs, the
    title with the number, items, totals floated right, bank and VAT id in a closing sentence."""
    rng = random.Random(f"{inv.number}-{inv.layout}")
    s = inv.seller
    right = "<br>".join(_h(x) for x in [_seller_name(inv, rng), s[1], f"{s[2]} {s[3]}",
                                         f"{inv.labels['vat']}: {inv.seller_vat}"])
    buyer = "<br>".join(_h(x) for x in _buyer(inv, rng))
    meta = _meta(inv)
    rng.shuffle(meta)
    inline = " &nbsp;·&nbsp; ".join(f"{_h(label)}: <b>{_h(value)}</b>" for label, value in meta)
    greet = {"de": "Sehr geehrte Damen und Herren,", "fr": "Madame, Monsieur,", "en": "Dear Sir or Madam,"}[inv.lang]
    css = """.sender { float: right; width: 38%; text-align: right; } .window { width: 55%; margin-top: 10pt; }
.sline { font-size: 0.7em; text-decoration: underline; margin-bottom: 3pt; } .clear { clear: both; }
.meta { margin: 22pt 0 8pt; font-size: 0.9em; } h2 { font-size: 13pt; margin: 8pt 0; }
.tots { float: right; width: 42%; } .tot { display: flex; justify-content: space-between; }
.tot.last { font-weight: bold; border-top: 0.8pt solid #000; border-bottom: 2pt double #000; }
.close { clear: both; padding-top: 24pt; font-size: 0.85em; }"""
    return _page(inv, rng, css, f"""<div class=sender>{right}</div>
<div class=window><div class=sline>{_h(s[0])} · {_h(s[1])} · {_h(s[2])} {_h(s[3])}</div>{buyer}</div>
<div class=clear></div><div class=meta>{inline}</div><h2>{_h(inv.title)} {_h(inv.number)}</h2><p>{_h(greet)}</p>
{_items(inv, rng)}<div class=tots>{_totals_rows(inv)}</div>
<div class=close>{_h(THANKS[inv.lang])}<br>{_h(s[0])} · {_h(inv.labels['iban'])} {_h(_spaced(inv.iban))} ·
{_h(inv.labels['vat'])} {_h(inv.seller_vat)}</div>""")


def print_table(inv: Invoice) -> str:
    """Everything above the items in one bordered table: a header row with the two parties' labels and
    the title, a row with their addresses and the reference data in the third cell; the parties' order
    random; totals as rows of the items table's foot."""
    rng = random.Random(f"{inv.number}-{inv.layout}")
    seller = [inv.seller[0], *_address(inv.seller)[1:], f"{inv.labels['vat']} {inv.seller_vat}"]
    parties = [(inv.labels["seller"], seller), (inv.labels["buyer"], _buyer(inv, rng))]
    if rng.random() < 0.5:
        parties.reverse()
    meta = "".join(f"<tr><td class=muted>{_h(label)}</td><td>{_h(value)}</td></tr>" for label, value in _meta(inv))
    head = "".join(f"<th>{_h(label)}</th>" for label, _lines in parties)
    cells = "".join(f"<td>{'<br>'.join(_h(x) for x in lines)}</td>" for _label, lines in parties)
    rows = _totals(inv)
    span = 5
    foot = "".join(f"<tr class='{'last' if n == len(rows) - 1 else ''}'><td colspan={span} class=r>{_h(label)}</td>"
                   f"<td class=r>{_h(value)}</td></tr>" for n, (label, value) in enumerate(rows))
    items = _items(inv, random.Random(0)).replace("</tbody></table>", f"</tbody><tfoot>{foot}</tfoot></table>")
    css = """.top { width: 100%; } .top th, .top td { border: 0.6pt solid #888; padding: 4pt 6pt; vertical-align: top;
text-align: left; } .top th { background: #f0f0f0; } .title { font-size: 17pt; font-weight: bold; }
.inner td { border: none; padding: 0 6pt 0 0; } tfoot td { border: none; padding: 2pt 4pt; }
tfoot .last td { font-weight: bold; border-top: 1pt solid #000; }
.bank { margin-top: 20pt; font-size: 0.8em; }"""
    return _page(inv, rng, css, f"""<table class=top><tr>{head}<th class=title>{_h(inv.title)}</th></tr>
<tr>{cells}<td><table class=inner>{meta}</table></td></tr></table>
{items}<div class=bank>{_h(BANK[inv.lang])}: {_h(inv.seller[0])}, {_h(inv.labels['iban'])} {_h(_spaced(inv.iban))}
<br>{_h(PAGE[inv.lang])}</div>""")


def print_leaders(inv: Invoice) -> str:
    """One narrow column: the seller centred in small capitals, the title, then label .... value lines
    (dotted leaders) for the reference data, the buyer's address under its label, items without VAT
    column, totals with dotted leaders, bank and VAT id."""
    rng = random.Random(f"{inv.number}-{inv.layout}")
    s = inv.seller
    meta = "".join(f"<div class=lead><span>{_h(label)}</span><span>{_h(value)}</span></div>"
                   for label, value in _meta(inv))
    buyer = "<br>".join(_h(x) for x in _buyer(inv, rng))
    blocks = [f"<div class=sec>{meta}</div>",
              f"<div class=sec><div class=lbl>{_h(inv.labels['buyer'])}</div>{buyer}</div>"]
    if rng.random() < 0.5:
        blocks.reverse()
    css = """body { width: 120mm; margin: 0 auto; } .head { text-align: center; font-variant: small-caps;
font-size: 1.3em; letter-spacing: 0.05em; } .addr { text-align: center; font-size: 0.8em; }
h1 { text-align: center; font-size: 15pt; margin: 14pt 0 8pt; }
.lead { display: flex; } .lead span:first-child { flex: 1; overflow: hidden; white-space: nowrap; }
.lead span:first-child::after { content: " ........................................................................"; }
.lead.last { font-weight: bold; } .sec { margin: 10pt 0; } .lbl { font-style: italic; }
.end { margin-top: 18pt; font-size: 0.8em; text-align: center; }"""
    return _page(inv, rng, css, f"""<div class=head>{_h(_seller_name(inv, rng))}</div>
<div class=addr>{_h(s[1])}, {_h(s[2])} {_h(s[3])} · {_h(inv.labels['vat'])} {_h(inv.seller_vat)}</div>
<h1>{_h(inv.title)}</h1>{''.join(blocks)}{_items(inv, rng)}<div class=sec>{_totals_rows(inv, leader=True)}</div>
<div class=end>{_h(s[0])} · {_h(inv.labels['iban'])} {_h(_spaced(inv.iban))}<br>{_h(fmt_date(inv, inv.issue))}</div>""")


PRINT_LAYOUTS = {"print_grid": print_grid, "print_stripe": print_stripe, "print_floats": print_floats,
                 "print_table": print_table, "print_leaders": print_leaders}
