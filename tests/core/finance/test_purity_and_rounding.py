"""The engine imports nothing but the standard library and core.money, and
rounds exactly as core.money does."""

import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from core.finance import LoanTerms, RepaymentUnit, build_schedule, year_fraction_exact
from core.finance._rounding import cents, to_multiple
from core.finance.dates import due_date_rule
from core.money import CENT, ROUNDING_MODES, quantize

ROOT = Path(__file__).resolve().parents[3]


def test_importing_the_engine_loads_no_django_no_other_app_and_no_numpy():
    code = (
        "import sys, core.finance\n"
        "bad = {'django', 'rest_framework', 'numpy', 'users', 'customers', 'origination',"
        " 'servicing', 'arrears', 'reporting', 'lending'}\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & bad)\n"
        "assert not loaded, loaded\n"
        "assert not [m for m in sys.modules if m.startswith('core.') and not"
        " (m.startswith('core.finance') or m == 'core.money')]\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)


amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False)


@given(amounts, st.sampled_from(sorted(ROUNDING_MODES)))
def test_fast_cent_rounding_equals_core_money(value, mode):
    assert cents(value, mode) == quantize(value, CENT, mode)
    assert to_multiple(value, Decimal("5"), mode) == quantize(value, Decimal("5"), mode)


def exact_half_up(value: Fraction) -> Decimal:
    scaled = value * 100
    whole = (2 * scaled.numerator + scaled.denominator) // (2 * scaled.denominator)
    return Decimal(whole) / 100


@given(
    st.integers(1_00, 10_000_000_00),
    st.one_of(
        st.integers(1, 60_000).map(lambda n: Decimal(n) / 100_000),
        st.integers(1, 10**12).map(lambda n: Decimal(n) / 10**13),  # 13 decimals: dividing loop
    ),
    st.integers(2, 60),
    st.sampled_from(["30/360", "actual/365", "actual/actual", "actual/360"]),
    st.dates(date(2000, 1, 1), date(2040, 1, 1)),
    st.integers(0, 40),
)
def test_every_row_interest_is_the_exactly_rounded_product(principal, rate, n, conv, day, odd):
    terms = LoanTerms(
        principal=Decimal(principal) / 100,
        annual_rate=rate,
        term=n,
        disbursement_date=day,
        first_payment_date=day + timedelta(days=20 + odd),
        day_count=conv,
    )
    s = build_schedule(terms)
    starts = (day, *s.due_dates[:-1])
    # 30/360: regular months are 1/12; the first period is regular when it
    # ends one anchored month after the disbursement.
    rule = due_date_rule(RepaymentUnit.MONTHS, 1, day, terms.first_payment_date)
    for k, (start, end, opening, charged) in enumerate(
        zip(starts, s.due_dates, s.opening_balances, s.interest_charged, strict=True)
    ):
        if conv == "30/360" and (k > 0 or rule.previous() == day):
            fraction = Fraction(1, 12)
        else:
            fraction = year_fraction_exact(start, end, conv)
        exact = Fraction(opening) * Fraction(rate) * fraction
        assert charged == exact_half_up(exact)


def test_half_cent_ties_round_up_in_the_tight_loop():
    # 1.00 x 0.06 / 12 = 0.005 exactly, every month: half-up gives 0.01.
    s = build_schedule(
        LoanTerms(
            principal="1.00",
            annual_rate="0.06",
            term=12,
            amortization="interest_only",
            disbursement_date=date(2024, 1, 15),
        )
    )
    assert set(s.interest_charged) == {Decimal("0.01")}
    # 3.00 x 0.10 / 12 = 0.025 -> 0.03 on the level loop's first plain row.
    level = build_schedule(
        LoanTerms(principal="3.00", annual_rate="0.10", term=3, disbursement_date=date(2024, 1, 15))
    )
    assert level.interest_charged[0] == Decimal("0.03")
