"""Re-amortisation from a loan's state on a date."""

from datetime import date
from decimal import Decimal

import pytest

from core.finance import AccrualPosition, LoanTerms, TermsError, build_schedule, reamortize

D = Decimal
TERMS = LoanTerms(
    principal="10000", annual_rate="0.12", term=12, disbursement_date=date(2024, 1, 15)
)
ORIGINAL = build_schedule(TERMS)


def state_after(row: int, **changes) -> AccrualPosition:
    """State just after instalment `row` (1-based) was paid."""
    paid = ORIGINAL.rows[row - 1]
    return AccrualPosition(
        principal=paid.closing_balance,
        annual_rate=D("0.12"),
        interest_from=paid.due_date,
        **changes,
    )


def test_reduce_term_without_change_reproduces_the_rest_of_the_schedule():
    new = reamortize(
        TERMS,
        state_after(3),
        on=date(2024, 4, 15),
        next_due_date=date(2024, 5, 15),
        remaining_term=9,
        installment=ORIGINAL.installment,
        mode="reduce_term",
    )
    assert new.payments == ORIGINAL.payments[3:]
    assert new.due_dates == ORIGINAL.due_dates[3:]
    assert new.interest_parts == ORIGINAL.interest_parts[3:]


def test_prepayment_reduce_installment_keeps_the_term():
    new = reamortize(
        TERMS,
        state_after(3),
        on=date(2024, 4, 15),
        next_due_date=date(2024, 5, 15),
        remaining_term=9,
        prepayment=D("2000"),
    )
    # 5610.80 over 9 months at 1 %: 5610.80 x 0.01 / (1 - 1.01^-9) = 655.01
    assert new.installment == D("655.01")
    assert len(new) == 9
    assert new.loan_amount == D("5610.80")
    assert new.due_dates[-1] == date(2025, 1, 15)
    assert new.rows[-1].payment == D("654.99")


def test_prepayment_mid_period_reduce_term_shortens_the_loan():
    new = reamortize(
        TERMS,
        state_after(3),
        on=date(2024, 4, 25),
        next_due_date=date(2024, 5, 15),
        remaining_term=9,
        installment=D("888.49"),
        prepayment=D("2000"),
        mode="reduce_term",
    )
    first = new.rows[0]
    # Interest to Apr 25 on the old balance (7610.80 x 0.12 x 10/360 = 25.37)
    # plus Apr 25 - May 15 on the new one (5610.80 x 0.12 x 20/360 = 37.41).
    assert first.interest == D("62.78")
    # The regular principal part: 888.49 - 5610.80 x 0.01.
    assert first.principal == D("832.38")
    assert first.payment == D("895.16")
    assert len(new) == 7
    assert new.due_dates[-1] == date(2024, 11, 15)
    assert new.rows[-1].payment == D("494.88")
    assert all(p == D("888.49") for p in new.payments[1:-1])
    assert new.total_principal == D("5610.80")


def test_new_rate_and_new_term():
    new = reamortize(
        TERMS,
        state_after(3),
        on=date(2024, 4, 15),
        next_due_date=date(2024, 5, 15),
        remaining_term=9,
        annual_rate=D("0.06"),
        term=18,
    )
    assert len(new) == 18
    assert new.rows[0].interest == D("38.05")  # 7610.80 x 0.06 / 12
    assert new.terms.annual_rate == D("0.06")
    assert new.closing_balances[-1] == 0


def test_outstanding_fees_and_penalties_are_due_with_the_first_new_instalment():
    new = reamortize(
        TERMS,
        state_after(
            3, fees_outstanding=D("15"), penalties_outstanding=D("5"), interest_outstanding=D("1")
        ),
        on=date(2024, 4, 15),
        next_due_date=date(2024, 5, 15),
        remaining_term=9,
    )
    first = new.rows[0]
    assert first.fees == D("20.00")
    assert first.interest == D("77.11")  # 76.11 for the month + 1.00 outstanding
    assert first.payment == first.principal + first.interest + first.fees
    assert new.total_fees == D("20.00")


def test_month_end_anchor_survives_reamortisation():
    terms = LoanTerms(
        principal="5000", annual_rate="0.06", term=6, disbursement_date=date(2024, 1, 31)
    )
    state = AccrualPosition(
        principal=D("4000"), annual_rate=D("0.06"), interest_from=date(2024, 2, 29)
    )
    new = reamortize(
        terms, state, on=date(2024, 3, 10), next_due_date=date(2024, 3, 31), remaining_term=5
    )
    assert new.due_dates == (
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
        date(2024, 7, 31),
    )


def test_bad_requests_name_the_argument():
    with pytest.raises(TermsError) as info:
        reamortize(
            TERMS,
            state_after(3),
            on=date(2024, 4, 15),
            next_due_date=date(2024, 4, 15),
            remaining_term=0,
            prepayment=D("8000"),
            mode="reduce_term",
            term=5,
        )
    assert set(info.value.errors) == {
        "next_due_date",
        "remaining_term",
        "prepayment",
        "installment",
        "term",
    }
    with pytest.raises(TermsError) as info:
        reamortize(
            TERMS,
            state_after(3),
            on=date(2024, 4, 1),
            next_due_date=date(2024, 5, 15),
            remaining_term=9,
            mode="x",
        )
    assert set(info.value.errors) == {"on", "mode"}
