"""The shared field validators: what a clerk is told about an invoice, without a value being changed."""
import datetime as dt
from decimal import Decimal

import pytest

from automations.engines.validation import (
    amount_due_plausible,
    iban_valid,
    invoice_validation_reasons,
    parse_date,
    parse_decimal,
    sums_consistent,
    vat_id_valid,
    vat_id_well_formed,
)


@pytest.mark.parametrize("iban", ["DE02120300000000202051", "DE02 1203 0000 0000 2020 51", "de91100000000123456789",
                                  "GB82WEST12345698765432", "AT611904300234573201", "NL91ABNA0417164300"])
def test_valid_ibans(iban):
    assert iban_valid(iban)


@pytest.mark.parametrize("iban", ["DE12123456781234567890", "DE02120300000000202052", "DE0212030000000020205",
                                  "XX", "", None, "DE02-1203-0000-0000-2020-5X"])
def test_invalid_ibans(iban):
    assert not iban_valid(iban)


@pytest.mark.parametrize("vat", ["DE123456788", "DE 123 456 788", "ATU13585627", "FR40303265045", "NL004495445B01",
                                 "IT00743110157", "BE0403019261", "GB980780684", "ESB58378431", "EL094259216",
                                 "XI980780684"])
def test_valid_vat_ids(vat):
    assert vat_id_valid(vat) and vat_id_well_formed(vat)


@pytest.mark.parametrize("vat", ["DE123456789", "ATU12345678", "NL123456789B01", "GB123456789", "EL123456789"])
def test_vat_ids_with_a_wrong_check_digit_are_well_formed_but_not_valid(vat):
    assert vat_id_well_formed(vat) and not vat_id_valid(vat)


@pytest.mark.parametrize("vat", ["DE12345678", "DE1234567890", "AT12345678", "US123456789", "123456789", "", None,
                                 "201/113/40209", "IT12345678901"])
def test_invalid_vat_id_formats(vat):
    assert not vat_id_well_formed(vat) and not vat_id_valid(vat)


@pytest.mark.parametrize("text, value", [
    ("1.234,56", "1234.56"), ("1234,56", "1234.56"), ("-8,79", "-8.79"), ("1,234.56", "1234.56"), ("300", "300"),
    ("252.1", "252.1"), ("1.234.567,89 €", "1234567.89"), ("EUR 98,790.52", "98790.52"), ("12,50-", "-12.50"),
    ("(12.50)", "-12.50"), ("1 234,56", "1234.56"), ("\u22124,00", "-4.00"), ("0,00", "0.00"), ("1.234", "1.234"),
])
def test_parse_decimal(text, value):
    assert parse_decimal(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "1.23.4", None, "12,34,56.7"])
def test_parse_decimal_refuses(text):
    assert parse_decimal(text) is None


@pytest.mark.parametrize("text, iso", [
    ("25.11.2026", "2026-11-25"), ("5.3.2018", "2018-03-05"), ("25.11.26", "2026-11-25"), ("2026-11-25", "2026-11-25"),
    ("20180305", "2018-03-05"), ("25. November 2026", "2026-11-25"), ("3. März 2025", "2025-03-03"),
    ("March 12, 2024", "2024-03-12"), ("12 March 2024", "2024-03-12"), ("25/11/2026", "2026-11-25"),
])
def test_parse_date(text, iso):
    assert parse_date(text) == dt.date.fromisoformat(iso)


@pytest.mark.parametrize("text", ["31.02.2024", "heute", "", None, "2024-13-01", "32. Januar 2024"])
def test_parse_date_refuses(text):
    assert parse_date(text) is None


def test_sums_within_a_cent():
    assert sums_consistent("473.00", "56.87", "529.87")
    assert sums_consistent("473,00", "56,87", "529,88")
    assert not sums_consistent("473.00", "56.87", "529.89")
    assert not sums_consistent(None, "1", "1")
    assert sums_consistent("-7.67", "-1.12", "-8.79")


def test_amount_due():
    assert amount_due_plausible("529.87", "529.87") and amount_due_plausible("197.65", "147.65")
    assert not amount_due_plausible("529.87", "-529.87") and not amount_due_plausible("220.00", "440.00")
    assert amount_due_plausible("-8.79", "-8.79") and amount_due_plausible("100", "0")


def test_validation_reasons_name_each_problem_and_change_nothing():
    fields = {"net_total": "260.20", "tax_total": "49.44", "gross_total": "319.64", "amount_due": "400.00",
              "seller_vat_id": "DE12345", "iban": "DE12123456781234567890", "issue_date": "2099-01-01"}
    before = dict(fields)
    reasons = invoice_validation_reasons(fields, today=dt.date(2025, 11, 1))
    assert fields == before
    assert len(reasons) == 5
    assert any("260.20" in r and "319.64" in r for r in reasons)
    assert any("DE12345" in r for r in reasons) and any("DE12123456781234567890" in r for r in reasons)
    assert any("2099-01-01" in r for r in reasons) and any("400.00" in r for r in reasons)


def test_a_sound_invoice_has_no_reasons_also_in_suggestion_form():
    fields = {"net_total": {"value": "473.00", "confidence": 0.9}, "tax_total": {"value": "56.87"},
              "gross_total": {"value": "529.87"}, "amount_due": {"value": "529.87"},
              "seller_vat_id": {"value": "DE123456788"}, "iban": {"value": "DE02120300000000202051"},
              "issue_date": {"value": "2025-10-01"}}
    assert invoice_validation_reasons(fields, today=dt.date(2025, 11, 1)) == []


def test_a_vat_id_with_a_wrong_check_digit_is_a_reason_of_its_own():
    reasons = invoice_validation_reasons({"seller_vat_id": "DE123456789", "iban": "DE02120300000000202051"})
    [malformed] = invoice_validation_reasons({"seller_vat_id": "DE12345"})
    assert len(reasons) == 1 and "DE123456789" in reasons[0]
    assert reasons[0].replace("DE123456789", "") != malformed.replace("DE12345", "")
    assert invoice_validation_reasons({"seller_vat_id": "DE123456788"}) == []


def test_unreadable_values_are_reasons():
    reasons = invoice_validation_reasons({"gross_total": "zwölf", "issue_date": "gestern"})
    assert len(reasons) == 2
