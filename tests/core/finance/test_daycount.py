"""Day count conventions: exact year fractions, daily accrual, daily rates."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.finance import DayCount, TermsError, accrual_fraction, daily_rate, year_fraction
from core.finance import year_fraction_exact as yf

CONVENTIONS = ["30/360", "30E/360", "actual/365", "actual/360", "actual/actual", "actual/364"]


@pytest.mark.parametrize(
    ("start", "end", "convention", "expected"),
    [
        # 30/360 US (SIA): D1=31 -> 30; D2=31 -> 30 only when D1 >= 30.
        (date(2024, 1, 15), date(2024, 2, 15), "30/360", Fraction(30, 360)),
        (date(2024, 1, 31), date(2024, 3, 31), "30/360", Fraction(60, 360)),
        (date(2024, 1, 15), date(2024, 1, 31), "30/360", Fraction(16, 360)),
        (date(2024, 1, 30), date(2024, 1, 31), "30/360", Fraction(0)),
        # Last day of February: D1 -> 30, and D2 -> 30 when both are Feb ends.
        (date(2023, 2, 28), date(2023, 3, 31), "30/360", Fraction(30, 360)),
        (date(2024, 2, 29), date(2025, 2, 28), "30/360", Fraction(1)),
        (date(2024, 1, 31), date(2024, 2, 29), "30/360", Fraction(29, 360)),
        # 30E/360: both days capped at 30, no February rule.
        (date(2024, 1, 15), date(2024, 1, 31), "30E/360", Fraction(15, 360)),
        (date(2023, 2, 28), date(2023, 3, 31), "30E/360", Fraction(32, 360)),
        (date(2024, 1, 31), date(2024, 3, 31), "30E/360", Fraction(60, 360)),
        # Actual conventions.
        (date(2024, 1, 1), date(2025, 1, 1), "actual/365", Fraction(366, 365)),
        (date(2024, 1, 1), date(2025, 1, 1), "actual/360", Fraction(366, 360)),
        (date(2024, 1, 1), date(2025, 1, 1), "actual/364", Fraction(366, 364)),
        (date(2024, 1, 1), date(2025, 1, 1), "actual/actual", Fraction(1)),
        # ISDA: 2023-12-15..2024-01-01 = 17 days of 365, then 14 days of 366.
        (
            date(2023, 12, 15),
            date(2024, 1, 15),
            "actual/actual",
            Fraction(17, 365) + Fraction(14, 366),
        ),
        (
            date(2023, 3, 1),
            date(2025, 3, 1),
            "actual/actual",
            Fraction(306, 365) + 1 + Fraction(59, 365),
        ),
    ],
)
def test_year_fraction_table(start, end, convention, expected):
    assert yf(start, end, convention) == expected
    assert yf(start, end, DayCount(convention)) == expected


def test_year_fraction_decimal_and_negative():
    assert year_fraction(date(2024, 1, 1), date(2024, 7, 1), "actual/360") == Decimal(182) / 360
    assert yf(date(2024, 7, 1), date(2024, 1, 1), "actual/actual") == -Fraction(182, 366)


def test_unknown_convention_is_a_value_error_naming_the_choices():
    with pytest.raises(ValueError, match="unknown day count convention 'act/365'") as info:
        yf(date(2024, 1, 1), date(2024, 2, 1), "act/365")
    assert isinstance(info.value, TermsError)
    assert set(info.value.errors) == {"day_count"}
    assert '"actual/365"' in info.value.errors["day_count"]


def test_daily_rate():
    rate = Decimal("0.0730")
    assert daily_rate(rate, date(2023, 6, 1), "actual/365") == Decimal("0.0002")
    assert daily_rate(rate, date(2024, 6, 1), "actual/actual") == rate / 366
    assert daily_rate(Decimal("0.072"), date(2024, 6, 1), "actual/360") == Decimal("0.0002")
    # 30-day months: the 30th and 31st share a day, the last of February
    # accrues the missing days.
    assert daily_rate(Decimal("0.36"), date(2024, 1, 15), "30/360") == Decimal("0.001")
    assert daily_rate(Decimal("0.36"), date(2024, 1, 30), "30/360") == 0
    assert daily_rate(Decimal("0.36"), date(2024, 1, 31), "30/360") == Decimal("0.001")
    assert daily_rate(Decimal("0.36"), date(2023, 2, 28), "30/360") == Decimal("0.003")
    assert daily_rate(Decimal("0.36"), date(2024, 2, 29), "30E/360") == Decimal("0.002")
    with pytest.raises(TypeError):
        daily_rate(0.05, date(2024, 1, 1), "actual/365")


def test_thirty_day_months_accrue_thirty_days_each_month():
    for month in range(1, 13):
        start = date(2023, month, 1)
        end = date(2023 + month // 12, month % 12 + 1, 1)
        for convention in ("30/360", "30E/360"):
            assert accrual_fraction(start, end, convention) == Fraction(30, 360)


dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))


@given(dates, st.integers(0, 800), st.integers(0, 800), st.sampled_from(CONVENTIONS))
def test_accrual_fraction_is_additive(a, gap1, gap2, convention):
    b = a + timedelta(days=gap1)
    c = b + timedelta(days=gap2)
    whole = accrual_fraction(a, c, convention)
    assert whole == accrual_fraction(a, b, convention) + accrual_fraction(b, c, convention)
    if convention != "30/360":
        # Everywhere but under the US end-of-month rule the accrual is the year fraction.
        assert whole == yf(a, c, convention)


@given(dates, st.integers(0, 1500))
def test_actual_actual_isda_matches_day_by_day_sum(a, gap):
    # Dates drawn lie in 1990-2064, where every fourth year (2000 included) is leap.
    c = a + timedelta(days=gap)
    by_day = sum(
        (Fraction(1, 366 if (a + timedelta(k)).year % 4 == 0 else 365) for k in range(gap)),
        Fraction(0),
    )
    assert yf(a, c, "actual/actual") == by_day
