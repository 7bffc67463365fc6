from decimal import Decimal

import pytest

from core.money import format_money, minor_units, quantize


@pytest.mark.parametrize(
    ("value", "unit", "mode", "expected"),
    [
        ("2.345", "0.01", "half_up", "2.35"),
        ("2.345", "0.01", "half_even", "2.34"),
        ("2.341", "0.01", "up", "2.35"),
        ("2.349", "0.01", "down", "2.34"),
        ("1234.50", "1", "half_up", "1235.00"),
        ("1234.49", "5", "half_up", "1235.00"),
        ("-2.345", "0.01", "half_up", "-2.35"),
    ],
)
def test_quantize(value, unit, mode, expected):
    assert quantize(Decimal(value), unit, mode) == Decimal(expected)


def test_floats_refused():
    with pytest.raises(TypeError):
        quantize(0.1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0"), "0.00"),
        (0, "0.00"),
        (75, "75.00"),
        (Decimal("75"), "75.00"),
        (Decimal("5709.11"), "5,709.11"),
        (Decimal("5709.110000000000"), "5,709.11"),  # what SQLite handed back
        (Decimal("818.510000000000"), "818.51"),
        ("5709.11", "5,709.11"),  # JSON-stored itemisations are strings
        (" 12.5 ", "12.50"),
        (Decimal("1234567.005"), "1,234,567.01"),  # half-up, core.money's default
        (Decimal("1234567.004"), "1,234,567.00"),
        (Decimal("999.995"), "1,000.00"),
        (Decimal("-1234.5"), "-1,234.50"),
        (Decimal("-0.004"), "0.00"),  # never "-0.00"
        (Decimal("-1234567.005"), "-1,234,567.01"),
        (Decimal("1000000000.00"), "1,000,000,000.00"),
        (None, ""),
        ("", ""),
        ("  ", ""),
    ],
)
def test_format_money(value, expected):
    assert format_money(value) == expected


def test_format_money_rounding_mode_and_currency_minor_units():
    assert format_money(Decimal("2.345"), rounding="half_even") == "2.34"
    assert format_money(Decimal("2.345")) == "2.35"
    assert format_money(Decimal("5709.11"), "USD") == "5,709.11"
    assert format_money(Decimal("5709.11"), "eur") == "5,709.11"
    assert format_money(Decimal("5709.5"), "JPY") == "5,710"
    assert format_money(Decimal("1.2345"), "KWD") == "1.235"
    assert minor_units(None) == 2 and minor_units("USD") == 2 and minor_units("JPY") == 0


@pytest.mark.parametrize("value", [0.1, 75.0])
def test_format_money_refuses_floats(value):
    with pytest.raises(TypeError):
        format_money(value)


@pytest.mark.parametrize("value", ["abc", "1,234.56", "NaN", "Infinity", object()])
def test_format_money_refuses_what_is_not_an_amount(value):
    with pytest.raises((ValueError, TypeError)):
        format_money(value)


def test_format_money_refuses_booleans():
    with pytest.raises(TypeError):
        format_money(True)


def test_money_filter_is_a_builtin_of_every_template():
    from django.template import engines

    template = engines["django"].from_string(
        '{{ a|money }} {{ b|money:"USD" }} [{{ c|money }}] {{ c|money|default:"-" }} {{ d|money }}'
    )
    context = {"a": Decimal("5709.110000000000"), "b": Decimal("75"), "c": None, "d": "818.5"}
    assert template.render(context) == "5,709.11 75.00 [] - 818.50"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("amount", "1250.50", "1,250.50"),
        ("loan_amount", "5709.11", "5,709.11"),
        ("principal_balance", Decimal("5709.1"), "5,709.10"),
        ("fee", 75, "75.00"),
        ("method", "check", "check"),
        ("amount", "not a number", "not a number"),
        ("installment_number", 3, 3),
        ("annual_rate", "0.1299", "0.1299"),
        ("amount", True, True),
    ],
)
def test_audit_value_formats_amounts_under_money_keys(key, value, expected):
    from core.templatetags.money import audit_value

    assert audit_value(value, key) == expected
