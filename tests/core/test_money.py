from decimal import Decimal

import pytest

from core.money import format_money, quantize


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


def test_format_money():
    assert format_money(Decimal("-1234.5")) == "-$1,234.50"
