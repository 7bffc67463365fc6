"""Invariants of every schedule the terms can describe (hypothesis)."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from core.finance import Fee, LoanTerms, TermsError, build_schedule
from core.money import CENT


@st.composite
def loan_terms(draw):
    term = draw(st.integers(1, 96))
    unit = draw(st.sampled_from(["months", "semi_months", "weeks", "days"]))
    every = 1 if unit == "semi_months" else draw(st.integers(1, 3 if unit != "days" else 30))
    disbursed = draw(st.dates(date(2000, 1, 1), date(2040, 12, 31)))
    first = draw(st.one_of(st.none(), st.integers(1, 75).map(lambda d: disbursed + timedelta(d))))
    amortization = draw(st.sampled_from(["equal_installments", "equal_principal", "interest_only"]))
    principal = Decimal(draw(st.integers(100_00, 5_000_000_00))) * CENT
    balloon = Decimal("0.00")
    if amortization != "interest_only" and draw(st.booleans()):
        balloon = (principal * Decimal(draw(st.integers(0, 90))) / 100).quantize(CENT)
    grace = lambda: draw(st.integers(0, min(3, term - 1)))  # noqa: E731
    fees = []
    if draw(st.booleans()):
        fees.append(Fee("origination", Decimal(draw(st.integers(0, 99))), draw(st.sampled_from(
            ["withheld", "financed", "paid_separately"])), draw(st.booleans())))  # fmt: skip
    return LoanTerms(
        principal=principal,
        annual_rate=Decimal(draw(st.integers(0, 45_000))) / 100_000,
        term=term,
        disbursement_date=disbursed,
        repayment_every=every,
        repayment_unit=unit,
        first_payment_date=first,
        interest_method=draw(st.sampled_from(["declining_balance", "flat"])),
        amortization=amortization,
        day_count=draw(
            st.sampled_from(
                ["30/360", "30E/360", "actual/365", "actual/360", "actual/actual", "actual/364"]
            )
        ),
        installment_multiple=draw(st.sampled_from(["0.01", "0.05", "1", "10"])),
        rounding=draw(st.sampled_from(["half_up", "half_even", "up", "down"])),
        grace_principal_periods=grace(),
        grace_interest_periods=grace(),
        interest_free_periods=grace(),
        balloon_amount=balloon,
        fees=fees,
    )


def build(terms):
    try:
        return build_schedule(terms)
    except TermsError as exc:
        # Only a multiple coarse enough to round the instalment to zero is refused.
        assert set(exc.errors) == {"installment_multiple"}
        assume(False)


@given(loan_terms())
def test_principal_parts_sum_to_the_loan_and_balances_end_at_zero(terms):
    s = build(terms)
    assert sum(s.principal_parts) == s.total_principal == terms.loan_amount
    assert all(balance >= 0 for balance in s.closing_balances)
    assert s.closing_balances[-1] == 0
    assert s.opening_balances[0] == terms.loan_amount
    assert s.opening_balances[1:] == s.closing_balances[:-1]


@given(loan_terms())
def test_rows_add_up(terms):
    s = build(terms)
    for row in s.rows:
        assert row.payment == row.principal + row.interest + row.fees
        assert row.closing_balance == row.opening_balance - row.principal
        assert row.payment >= 0
        assert row.interest_charged >= 0
        assert row.days > 0
        for amount in (row.principal, row.interest, row.payment, row.closing_balance):
            assert amount == amount.quantize(CENT)
    assert sum(s.interest_parts) == sum(s.interest_charged) == s.total_interest
    assert s.total_payments == sum(s.payments)
    assert list(s.due_dates) == sorted(set(s.due_dates))
    assert s.due_dates[0] > terms.disbursement_date


@given(loan_terms())
def test_level_instalments_are_level(terms):
    s = build(terms)
    if s.installment is None or terms.amortization != "equal_installments":
        return
    assert s.installment % terms.installment_multiple == 0
    grace = max(terms.grace_principal_periods, terms.grace_interest_periods)
    for row in s.rows[grace + 1 : -1]:
        if row.opening_balance > s.installment:  # not cut short by a coarse multiple
            assert row.payment == s.installment
