"""numpy-financial as an independent oracle for level annuities.

numpy-financial works in floats with an unrounded payment, so its rows drift
from a cent-rounded schedule by the accumulated rounding: at row k at most
one cent per earlier period, compounded, i.e. 0.01 x s(k, r). Rows are
compared within that bound; the instalment itself must equal the float
payment rounded to the cent.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.finance import LoanTerms, build_schedule

np = pytest.importorskip("numpy")
npf = pytest.importorskip("numpy_financial")


def check_against_numpy(principal: int, rate_bp: int, n: int, every: int = 1) -> None:
    rate = Decimal(rate_bp) / 10_000
    terms = LoanTerms(
        principal=Decimal(principal),
        annual_rate=rate,
        term=n,
        disbursement_date=date(2024, 1, 15),
        repayment_every=every,
    )
    s = build_schedule(terms)
    r = float(rate) * every / 12
    pmt = principal / n if r == 0 else -float(npf.pmt(r, n, principal))
    exact_cents = Decimal(repr(pmt)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    # Not within float noise of a half cent: numpy's pmt loses precision for
    # tiny rates ((1+r)^n - 1 cancels), e.g. 1,800 at 0.01% over 1 month gives
    # 1800.0149999882 for the exact 1800.015, so allow a thousandth of a cent.
    if abs(pmt * 100 % 1 - 0.5) > 1e-3:
        assert s.installment == exact_cents
    periods = np.arange(1, n + 1)
    if r == 0:
        ipmt, ppmt = np.zeros(n), np.full(n, pmt)
    else:
        ipmt, ppmt = -npf.ipmt(r, periods, n, principal), -npf.ppmt(r, periods, n, principal)
    for k, row in enumerate(s.rows):
        # Balance drift after k periods: at most (payment rounding + interest
        # rounding) = 0.01 per period, compounded.
        drift = 0.01 * (((1 + r) ** k - 1) / r if r else k)
        assert abs(float(row.interest) - ipmt[k]) <= r * drift + 0.005 + 1e-9
        if k < n - 1 and row.closing_balance > 0:
            # (Rounding the payment up can repay a long high-rate loan a row
            # early; that row's principal is the rest of the balance.)
            assert abs(float(row.principal) - ppmt[k]) <= r * drift + 0.01 + 1e-9
    drift = 0.01 * (((1 + r) ** n - 1) / r if r else n)
    assert abs(float(s.rows[-1].payment) - pmt) <= drift + 0.01


@pytest.mark.parametrize(
    ("principal", "rate_bp", "n", "every"),
    [
        (10_000, 1200, 12, 1),
        (200_000, 650, 360, 1),
        (35_000, 399, 60, 1),
        (5_000, 2999, 24, 1),
        (80_000, 725, 40, 3),
        (1_000, 0, 10, 1),
        (1_377, 2847, 231, 1),  # rounding up repays it one instalment early
    ],
)
def test_matches_numpy_financial(principal, rate_bp, n, every):
    check_against_numpy(principal, rate_bp, n, every)


@given(st.integers(1_000, 2_000_000), st.integers(1, 3600), st.integers(1, 240))
@example(1800, 1, 1)  # numpy's float noise at a half cent (see check_against_numpy)
def test_matches_numpy_financial_property(principal, rate_bp, n):
    check_against_numpy(principal, rate_bp, n)


def test_totals_match_numpy_payment_times_term_within_rounding():
    s = build_schedule(
        LoanTerms(
            principal="200000",
            annual_rate="0.065",
            term=360,
            disbursement_date=date(2024, 1, 15),
        )
    )
    pmt = -npf.pmt(0.065 / 12, 360, 200_000)
    assert s.installment == Decimal("1264.14")  # 1264.1360
    # 359 payments 0.0040 too high, compounded at 0.065/12: the last one is
    # lower by their future value (4.34), give or take the compounded interest
    # roundings (at most 0.005 a period).
    s_359 = ((1 + 0.065 / 12) ** 359 - 1) / (0.065 / 12)
    fv = (1264.14 - pmt) * s_359
    assert s.rows[-1].payment == Decimal("1259.56")
    assert abs(float(s.rows[-1].payment) - (pmt - fv)) <= 0.005 * s_359
    assert s.total_interest == Decimal("255085.82")
