"""The PDF's text layer as rows of segments (automations/documents/pdf.py): where a producer writes two
table cells as one text run, where its kerning leaves a gap inside a word, and where it places words by
position without space glyphs."""
import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from automations.documents.pdf import text_layer


def _pdf(runs: list[tuple[float, float, str]], size: float = 10) -> bytes:
    """Text runs (x, y from the top, text) on one A4 page, each drawn as one text object."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    page.setFont("Times-Roman", size)
    for x, y, text in runs:
        page.drawString(x, A4[1] - y, text)
    page.save()
    return buffer.getvalue()


def _rows(pdf: bytes) -> list[list[str]]:
    return [[s.text for s in row.segments] for row in text_layer(pdf).rows]


def test_two_cells_written_as_one_run_with_spaces_between_are_two_segments():
    # groff's tbl writes a table row as one run and fills the gap between its cells with space glyphs.
    pdf = _pdf([(57, 100, "Fournisseur" + " " * 52 + "Acheteur"),
                (57, 113, "Scierie des Vosges SA" + " " * 40 + "Pharmacie Centrale Delorme")])
    assert _rows(pdf) == [["Fournisseur", "Acheteur"], ["Scierie des Vosges SA", "Pharmacie Centrale Delorme"]]
    # A double space inside a run is no column gap.
    assert _rows(_pdf([(57, 100, "Total VAT  €18190.77")])) == [["Total VAT €18190.77"]]


def test_a_kerning_gap_inside_a_word_joins_where_the_line_writes_its_word_gaps_as_spaces():
    # The line writes "Hofladen W" with a space glyph; "iesengrund" stands half an em after the W.
    head = "Kontoinhaber: Hofladen W"
    pdf = _pdf([(57, 100, head), (57 + stringWidth(head, "Times-Roman", 10) + 5.2, 100, "iesengrund")])
    assert _rows(pdf) == [["Kontoinhaber: Hofladen Wiesengrund"]]


def test_words_placed_by_position_without_space_glyphs_keep_their_gaps():
    # A producer that places each word by position writes no space glyph between words: its gaps are words'.
    x, runs = 57.0, []
    for word in ("Déjà", "réglé"):
        runs.append((x, 100, word))
        x += stringWidth(word, "Times-Roman", 10) + 2.8
    runs.append((200, 100, "-1 399,90 €"))
    assert _rows(_pdf(runs)) == [["Déjà réglé", "-1 399,90 €"]]


def test_a_typographic_apostrophe_reads_as_an_apostrophe():
    assert _rows(_pdf([(57, 100, "Facture d\u2019acompte")])) == [["Facture d'acompte"]]
