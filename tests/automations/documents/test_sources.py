"""Finding the words that print a value: amounts and dates in their printed forms, IBANs in groups,
names over several words, the line the explanation quotes before any other."""
from automations.documents.sources import value_boxes

# [text, x0, top, x1, bottom, confidence] as the document stage stores them
PAGE = [
    ["Metallbau", 50, 40, 95, 52, None], ["Kranz", 98, 40, 125, 52, None], ["GmbH", 128, 40, 150, 52, None],
    ["Zwischensumme", 330, 400, 400, 410, None], ["1.190,00", 480, 400, 520, 410, None],
    ["Gesamtbetrag", 330, 430, 390, 440, None], ["1.190,00", 480, 430, 520, 440, None], ["€", 522, 430, 528, 440, None],
    ["Datum:", 330, 100, 360, 110, None], ["7.", 400, 100, 408, 110, None], ["November", 410, 100, 450, 110, None],
    ["2026", 452, 100, 472, 110, None],
    ["IBAN", 50, 800, 70, 808, None], ["DE89", 72, 800, 92, 808, None], ["3704", 94, 800, 114, 808, None],
    ["0044", 116, 800, 136, 808, None], ["0532", 138, 800, 158, 808, None], ["0130", 160, 800, 180, 808, None],
    ["00", 182, 800, 192, 808, None],
]


def test_an_amount_is_found_on_the_line_the_explanation_quotes():
    source = value_boxes("gross_total", "1190.00", "Text: 'Gesamtbetrag 1.190,00 €' (page 1)", [(1, PAGE)])
    assert source.page == 1 and source.boxes == [(480, 430, 520, 440)]


def test_a_date_a_name_and_an_iban_over_several_words():
    date = value_boxes("issue_date", "2026-11-07", "Text: 'Datum: 7. November 2026' (page 1)", [(1, PAGE)])
    assert [b[0] for b in date.boxes] == [400, 410, 452]
    name = value_boxes("seller_name", "Metallbau Kranz GmbH", "Text: 'Metallbau Kranz GmbH' (page 1)", [(1, PAGE)])
    assert len(name.boxes) == 3
    iban = value_boxes("iban", "DE89370400440532013000", "", [(1, PAGE)])
    assert [b[0] for b in iban.boxes] == [72, 94, 116, 138, 160, 182]


def test_a_value_not_printed_has_no_boxes():
    assert value_boxes("net_total", "1000.00", "net total + tax", [(1, PAGE)]) is None
    assert value_boxes("buyer_name", "", "", [(1, PAGE)]) is None
