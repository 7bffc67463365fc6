"""Daily accrual (exact and rounded) and payoff quotes."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.finance import AccrualPosition, TermsError, accrue, accrued_interest_exact, payoff

D = Decimal
CONVENTIONS = ["30/360", "30E/360", "actual/365", "actual/360", "actual/actual", "actual/364"]


@pytest.mark.parametrize(
    ("balance", "rate", "start", "end", "convention", "expected"),
    [
        ("10000", "0.073", date(2023, 1, 1), date(2023, 1, 31), "actual/365", "60.00"),
        ("10000", "0.072", date(2023, 1, 1), date(2023, 1, 31), "actual/360", "60.00"),
        ("10000", "0.0728", date(2023, 1, 1), date(2023, 1, 31), "actual/364", "60.00"),
        ("10000", "0.0732", date(2024, 1, 1), date(2024, 1, 31), "actual/actual", "60.00"),
        ("10000", "0.12", date(2023, 2, 1), date(2023, 3, 1), "30/360", "100.00"),
        ("10000", "0.12", date(2023, 2, 15), date(2023, 3, 15), "30/360", "100.00"),
        ("10000", "0.12", date(2024, 1, 1), date(2025, 1, 1), "30/360", "1200.00"),
        ("7610.80", "0.12", date(2024, 4, 15), date(2024, 4, 25), "30/360", "25.37"),
        ("1234.56", "0.0725", date(2024, 3, 3), date(2024, 3, 3), "actual/365", "0.00"),
    ],
)
def test_accrue_table(balance, rate, start, end, convention, expected):
    assert accrue(D(balance), D(rate), start, end, convention) == D(expected)


def test_exact_accrual_is_a_fraction_and_rounding_is_chosen():
    exact = accrued_interest_exact(
        D("100"), D("0.05"), date(2023, 1, 1), date(2023, 1, 2), "actual/365"
    )
    assert exact == Fraction(1, 73)  # 100 x 0.05 / 365
    assert accrue(D("100"), D("0.05"), date(2023, 1, 1), date(2023, 1, 2), "actual/365") == D(
        "0.01"
    )
    assert accrue(
        D("100"), D("0.05"), date(2023, 1, 1), date(2023, 1, 2), "actual/365", "down"
    ) == D("0.01")
    assert accrue(D("100"), D("0.05"), date(2023, 1, 1), date(2023, 1, 2), "actual/365", "up") == D(
        "0.02"
    )
    with pytest.raises(TermsError):
        accrue(D("100"), D("0.05"), date(2023, 1, 2), date(2023, 1, 1))
    with pytest.raises(TermsError):
        accrue(100.0, D("0.05"), date(2023, 1, 1), date(2023, 1, 2))


@given(
    st.integers(0, 10**10).map(lambda c: D(c) / 100),
    st.integers(0, 50_000).map(lambda bp: D(bp) / 100_000),
    st.dates(date(1990, 1, 1), date(2060, 1, 1)),
    st.integers(0, 1000),
    st.integers(0, 1000),
    st.sampled_from(CONVENTIONS),
)
def test_accrual_over_a_c_equals_a_b_plus_b_c_before_rounding(
    balance, rate, a, gap1, gap2, convention
):
    b = a + timedelta(days=gap1)
    c = b + timedelta(days=gap2)
    whole = accrued_interest_exact(balance, rate, a, c, convention)
    split = accrued_interest_exact(balance, rate, a, b, convention) + accrued_interest_exact(
        balance, rate, b, c, convention
    )
    assert whole == split
    # The rounded accrual is the exact one rounded half-up, once.
    scaled = whole * 100
    cents_up = (2 * scaled.numerator + scaled.denominator) // (2 * scaled.denominator)
    assert accrue(balance, rate, a, c, convention) == D(cents_up) / 100
    # Rounding once can differ from summing two rounded parts by at most a cent.
    parts = accrue(balance, rate, a, b, convention) + accrue(balance, rate, b, c, convention)
    assert abs(accrue(balance, rate, a, c, convention) - parts) <= D("0.01")


def test_payoff_quote():
    state = AccrualPosition(
        principal=D("7610.80"),
        annual_rate=D("0.12"),
        interest_from=date(2024, 4, 15),
        interest_outstanding=D("12.00"),
        fees_outstanding=D("25.00"),
        penalties_outstanding=D("10.00"),
        unapplied_credit=D("50.00"),
    )
    quote = payoff(state, date(2024, 4, 25))
    assert quote.interest == D("37.37")  # 12.00 + 7610.80 x 0.12 x 10/360 (25.37)
    assert quote.total == D("7633.17")  # 7610.80 + 37.37 + 25 + 10 - 50
    assert quote.per_diem == D("2.54")  # 7610.80 x 0.12 / 360
    assert (quote.principal, quote.fees, quote.penalties, quote.unapplied_credit) == (
        D("7610.80"),
        D("25.00"),
        D("10.00"),
        D("50.00"),
    )
    # A day later: 11 days accrue 27.91 instead of 25.37, i.e. the per-diem.
    assert payoff(state, date(2024, 4, 26)).total - quote.total == D("2.54")


def test_payoff_per_diem_follows_the_convention():
    state = AccrualPosition(
        principal=D("36600"),
        annual_rate=D("0.10"),
        interest_from=date(2024, 1, 1),
        day_count="actual/actual",
    )
    assert payoff(state, date(2024, 3, 1)).per_diem == D("10.00")  # 366-day year
    assert payoff(state, date(2024, 3, 1)).interest == D("600.00")  # 60 days / 366
    state365 = AccrualPosition(
        principal=D("36500"),
        annual_rate=D("0.10"),
        interest_from=date(2023, 1, 1),
        day_count="actual/365",
    )
    assert payoff(state365, date(2023, 1, 1)).per_diem == D("10.00")
    assert payoff(state365, date(2023, 1, 1)).total == D("36500")


def test_payoff_rejects_bad_states():
    with pytest.raises(TermsError) as info:
        AccrualPosition(principal=D("-1"), annual_rate=D("0.1"), interest_from=date(2024, 1, 1))
    assert "principal" in info.value.errors
    with pytest.raises(TermsError):
        AccrualPosition(
            principal=D("1"), annual_rate=D("0.1"), interest_from=date(2024, 1, 1), day_count="x"
        )
    state = AccrualPosition(
        principal=D("100"), annual_rate=D("0.1"), interest_from=date(2024, 1, 10)
    )
    with pytest.raises(TermsError) as info:
        payoff(state, date(2024, 1, 9))
    assert "as_of" in info.value.errors
