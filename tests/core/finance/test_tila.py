"""Truth in Lending figures from the payment schedule."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.finance import Fee, LoanTerms, PaymentGroup, TermsError, build_schedule, tila

D = Decimal
BASE = {
    "principal": "10000",
    "annual_rate": "0.12",
    "term": 12,
    "disbursement_date": date(2024, 1, 15),
}


def test_fee_free_loan():
    disclosure = tila(LoanTerms(**BASE))
    assert disclosure.amount_financed == D("10000.00")
    assert disclosure.total_of_payments == D("10661.86")
    assert disclosure.finance_charge == D("661.86")
    assert disclosure.payment_summary == (
        PaymentGroup(11, D("888.49"), date(2024, 2, 15)),
        PaymentGroup(1, D("888.47"), date(2025, 1, 15)),
    )
    # The rounded-up instalment puts the APR a hair above 12 %.
    assert disclosure.apr == D("0.12000115")
    assert disclosure.apr_percent == D("12.0001")
    assert disclosure.disclosed_apr_percent() == D("12.00")
    assert disclosure.disclosed_apr_percent(3) == D("12.000")


def test_withheld_prepaid_finance_charge():
    terms = LoanTerms(**BASE, fees=[Fee("origination", D("300"), "withheld", True)])
    disclosure = tila(terms)
    assert build_schedule(terms).disbursed_amount == D("9700.00")
    assert disclosure.amount_financed == D("9700.00")
    assert disclosure.total_of_payments == D("10661.86")
    assert disclosure.finance_charge == D("961.86")  # interest + the fee
    assert disclosure.disclosed_apr_percent() == D("17.83")  # 12 x IRR of the cash flows


@pytest.mark.parametrize(
    ("fee", "amount_financed", "total_of_payments", "finance_charge"),
    [
        # Financed finance charge: the note grows, the amount financed does not.
        (Fee("origination", D("300"), "financed", True), "10000.00", "10981.71", "981.71"),
        # Paid in cash at closing: still a prepaid finance charge.
        (Fee("origination", D("300"), "paid_separately", True), "9700.00", "10661.86", "961.86"),
        # Not finance charges: financed or withheld ones are amounts financed.
        (Fee("title", D("300"), "financed", False), "10300.00", "10981.71", "681.71"),
        (Fee("title", D("300"), "withheld", False), "10000.00", "10661.86", "661.86"),
        (Fee("title", D("300"), "paid_separately", False), "10000.00", "10661.86", "661.86"),
    ],
)
def test_fee_treatments(fee, amount_financed, total_of_payments, finance_charge):
    disclosure = tila(LoanTerms(**BASE, fees=[fee]))
    assert disclosure.amount_financed == D(amount_financed)
    assert disclosure.total_of_payments == D(total_of_payments)
    assert disclosure.finance_charge == D(finance_charge)


def test_interest_only_schedule_without_rounding_has_apr_equal_to_its_rate():
    # 12000 x 0.12 / 12 = 120.00 exactly every month: nothing is rounded.
    disclosure = tila(LoanTerms(**{**BASE, "principal": "12000"}, amortization="interest_only"))
    assert disclosure.apr_detail.rate == D("0.120000000000")
    assert disclosure.payment_summary == (
        PaymentGroup(11, D("120.00"), date(2024, 2, 15)),
        PaymentGroup(1, D("12120.00"), date(2025, 1, 15)),
    )


def test_odd_first_period_and_grace_rows_without_payment():
    terms = LoanTerms(
        **BASE,
        first_payment_date=date(2024, 3, 1),
        grace_principal_periods=1,
        grace_interest_periods=1,
    )
    disclosure = tila(terms)
    assert build_schedule(terms).payments[0] == 0
    # The row that pays nothing is no payment; the next one pays both periods' interest.
    first = disclosure.payment_summary[0]
    assert first.first_due_date == date(2024, 4, 1)
    assert first.count == 1
    assert disclosure.total_of_payments == build_schedule(terms).total_payments


def test_tila_accepts_a_schedule():
    schedule = build_schedule(LoanTerms(**BASE))
    assert tila(schedule) == tila(LoanTerms(**BASE))


def test_prepaid_finance_charges_cannot_exceed_the_loan():
    terms = LoanTerms(**BASE, fees=[Fee("points", D("20000"), "paid_separately", True)])
    with pytest.raises(TermsError) as info:
        tila(terms)
    assert "fees" in info.value.errors


@given(
    st.integers(1_000_00, 1_000_000_00),
    st.integers(1, 3000),
    st.integers(2, 360),
    st.dates(date(2000, 1, 1), date(2040, 1, 1)),
    st.sampled_from(["30/360", "30E/360"]),
)
def test_fee_free_apr_equals_the_nominal_rate_up_to_cent_rounding(cents, rate_bp, n, day, conv):
    """30/360 monthly, regular first period: Appendix J's monthly unit-period
    and the schedule's rate/12 coincide, so the APR is the nominal rate except
    for the cent roundings of interest (at most half a cent a row, compounded).
    The bound below is that effect: |NPV at the nominal rate| <= 0.005 x a(n)
    over the slope of the NPV, x 12."""
    if day.day > 28:
        return
    rate = D(rate_bp) / 10_000
    terms = LoanTerms(
        principal=D(cents) / 100, annual_rate=rate, term=n, disbursement_date=day, day_count=conv
    )
    disclosure = tila(terms)
    r = float(rate) / 12
    v = 1 / (1 + r)
    payments = build_schedule(terms).payments
    annuity = sum(v**k for k in range(1, n + 1))
    slope = sum(k * float(p) * v ** (k + 1) for k, p in enumerate(payments, start=1))
    bound = 12 * 0.005 * annuity / slope
    assert abs(float(disclosure.apr_detail.rate) - float(rate)) <= bound * 1.001 + 1e-12
